"""A LangGraph agent whose graph pauses on Airlock for a human's verdict before it acts.

    AIRLOCK_URL=http://127.0.0.1:3000 AIRLOCK_AGENT_KEY=alk_... python examples/langgraph_agent.py

The model is LangChain's fake chat model, so it runs without an API key; swap in any chat model
(`ChatOpenAI(...)`, ...) for real use. Prints one JSON line with the verdict and what it did.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TypedDict

from airlock_client import AirlockClient
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langgraph.graph import END, START, StateGraph

MODEL = FakeListChatModel(responses=["Decisions: legal review by Friday; pilot in Q3."])


class State(TypedDict, total=False):
    transcript: str
    summary: str
    item_id: str
    status: str
    reason: str
    action: str


def draft(state: State) -> State:
    """The model summarises the call."""
    answer = MODEL.invoke(f"Summarise the decisions of this call:\n{state['transcript']}")
    return {"summary": str(answer.content)}


def review(state: State) -> State:
    """Airlock gates the summary: the graph waits here until a person decides."""
    url = os.environ.get("AIRLOCK_URL", "http://127.0.0.1:3000")
    with AirlockClient(url) as airlock:
        item = airlock.submit(
            "call-summary-cleanup",
            "summary",
            "Acme call",
            summary=state["summary"],
            reasons=["summarised from the transcript"],
            confidence=0.7,
            sources=[{"title": "Gong call", "url": "https://gong.example/calls/1"}],
        )
        verdict = airlock.wait(item.id, timeout=float(os.environ.get("AGENT_WAIT", "600")))
    reason = (verdict.decision or {}).get("reason", "")
    return {"item_id": item.id, "status": verdict.status, "reason": str(reason)}


def route(state: State) -> str:
    return "publish" if state["status"] in ("approved", "edited", "auto_accepted") else "learn"


def publish(state: State) -> State:
    return {"action": f"published the summary of {state['item_id']}"}


def learn(state: State) -> State:
    return {"action": f"dropped the summary ({state['reason'] or state['status']})"}


def build() -> object:
    graph = StateGraph(State)
    graph.add_node("draft", draft)
    graph.add_node("review", review)
    graph.add_node("publish", publish)
    graph.add_node("learn", learn)
    graph.add_edge(START, "draft")
    graph.add_edge("draft", "review")
    graph.add_conditional_edges("review", route, ["publish", "learn"])
    graph.add_edge("publish", END)
    graph.add_edge("learn", END)
    return graph.compile()


def main() -> int:
    app = build()
    final = app.invoke({"transcript": "Intro.\nDecision: legal review.\nDecision: pilot."})  # type: ignore[attr-defined]
    print(json.dumps({k: final[k] for k in ("item_id", "status", "summary", "action")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
