# syntax=docker/dockerfile:1
# The ollama-gateway image. Targets:
#   gateway      (default, last stage) the gateway alone; Ollama runs elsewhere (compose.yaml's `ollama` service)
#   with-ollama  the gateway beside `ollama serve` in one container, Ollama bound to 127.0.0.1 only
#
#   docker build -t ollama-gateway .
#   docker build --target with-ollama -t ollama-gateway:with-ollama .
#
# BASE is any Debian-like image with python3 (>= 3.11) and its venv module; both stages must share it because
# the virtualenv links to the base's interpreter. OLLAMA_IMAGE is only read by the with-ollama target.
ARG BASE=python:3.12-slim
ARG OLLAMA_IMAGE=ollama/ollama:latest

# ---------------------------------------------------------------------------------------------------------------
# The dependency list alone, out of pyproject.toml: the install layer below is reused until the list changes
# (an edit elsewhere in pyproject.toml, or to the sources, does not reinstall every dependency).
FROM ${BASE} AS requirements
WORKDIR /src
COPY pyproject.toml ./
RUN python3 -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
        > /requirements.txt

# ---------------------------------------------------------------------------------------------------------------
FROM ${BASE} AS build
# Package index settings of the building machine, passed in at build time and never kept in the image
# (they live only in this stage). A CA bundle for an intercepting proxy comes in as the secret `pip_cert`.
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_TRUSTED_HOST
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1
SHELL ["/bin/sh", "-eu", "-c"]
RUN python3 -m venv /opt/venv
COPY --from=requirements /requirements.txt /tmp/requirements.txt
RUN --mount=type=secret,id=pip_cert \
    if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi; \
    /opt/venv/bin/pip install --no-cache-dir --requirement /tmp/requirements.txt
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN --mount=type=secret,id=pip_cert \
    if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi; \
    /opt/venv/bin/pip install --no-cache-dir --no-deps . ; \
    /opt/venv/bin/pip uninstall --yes pip setuptools

# ---------------------------------------------------------------------------------------------------------------
FROM ${BASE} AS runtime
SHELL ["/bin/sh", "-eu", "-c"]
# A fixed numeric uid/gid: bind-mounted data directories can be chowned to it, and runAsNonRoot can check it.
RUN groupadd --system --gid 10001 gateway; \
    useradd --system --uid 10001 --gid gateway --home-dir /data --no-create-home --shell /usr/sbin/nologin gateway; \
    mkdir -p /data /app; \
    chown gateway:gateway /data; \
    chmod 0750 /data
COPY --from=build /opt/venv /opt/venv
COPY docker/healthcheck.py /opt/ollama-gateway/healthcheck.py
ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    PORT=11535 \
    GATEWAY_DATA_DIR=/data
# The working directory holds nothing: a `.env` mounted at /app/.env is read, the data stays in /data.
WORKDIR /app
VOLUME ["/data"]
EXPOSE 11535
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "/opt/ollama-gateway/healthcheck.py"]

# ---------------------------------------------------------------------------------------------------------------
# Where the Ollama binary and its libraries come from (not built, and not tested on machines without a registry).
FROM ${OLLAMA_IMAGE} AS ollama-dist

FROM runtime AS with-ollama
COPY --from=ollama-dist /usr/bin/ollama /usr/bin/ollama
COPY --from=ollama-dist /usr/lib/ollama /usr/lib/ollama
COPY docker/with-ollama.sh /usr/local/bin/with-ollama
# Ollama listens on loopback only: clients reach models through the gateway's keys, never around them.
ENV OLLAMA_HOST=127.0.0.1:11434 \
    OLLAMA_URL=http://127.0.0.1:11434 \
    OLLAMA_MODELS=/data/ollama/models \
    HOME=/data
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/with-ollama"]
CMD ["serve"]

# ---------------------------------------------------------------------------------------------------------------
# The default target: the gateway alone, as uid 10001. Its process is PID 1 and shuts down cleanly on SIGTERM
# (uvicorn drains requests; the lifespan flushes usage records and final task states).
FROM runtime AS gateway
USER 10001:10001
ENTRYPOINT ["ollama-gateway"]
CMD ["serve"]
