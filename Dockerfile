# The bot, the merchant API and the scheduler in one image: `docker build -t loyalty-bot .`
# Settings come from the environment (--env-file .env); data lives in the /data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY domain ./domain
COPY storage ./storage
COPY messages ./messages
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin loyalty \
    && mkdir -p /data && chown loyalty /data

USER loyalty
WORKDIR /data
VOLUME ["/data"]
# In a container the servers listen on every interface; the published ports decide reach.
ENV DATABASE_URL=sqlite+aiosqlite:////data/loyalty.db \
    API_HOST=0.0.0.0 \
    WEBHOOK_HOST=0.0.0.0 \
    MPLCONFIGDIR=/tmp/matplotlib
EXPOSE 8080 8081
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["loyalty-bot"]
CMD ["run"]
