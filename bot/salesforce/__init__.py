"""Salesforce as Airlock reads it: the REST client, its errors, ids, SOQL text, field metadata.

It owns the client (`client`), the error classes, record ids, the describe cache (`fields`), API
usage, record owners and the people directory that maps Salesforce owners to Slack reviewers. It
may import `bot.base` and `models`; what writes to Salesforce for an item lives in
`bot.delivery` (write-back), because that needs the item's core.
"""
