# Airlock as one image. Run one or more replicas of it against PostgreSQL (see compose.yaml).
# The sandbox stand-ins never run here: bind 0.0.0.0 needs real Slack and Salesforce settings.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY bot bot
COPY handlers handlers
COPY models models
RUN pip install --no-cache-dir . && useradd --system --uid 10001 --home-dir /app airlock
COPY workflows workflows

USER airlock
ENV AIRLOCK_WORKFLOWS=/app/workflows PORT=3000
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/healthz', timeout=4)"
CMD ["airlock", "serve", "--host", "0.0.0.0"]
