# syntax=docker/dockerfile:1
# Multi-stage: build wheels once, install them into a slim runtime that runs as a non-root user.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY collectors ./collectors
COPY simulator ./simulator
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# fonts-nanum: the Korean font embedded in the PDF report.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-nanum \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/wifimon --create-home wifimon
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER wifimon
WORKDIR /var/lib/wifimon
# Configuration (wifimon.yaml, secrets files) is mounted here; history goes to the store URL it names.
VOLUME ["/config", "/var/lib/wifimon"]
ENV WIFIMON_CONFIG=/config/wifimon.yaml
EXPOSE 9810
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:9810/healthz', timeout=4); sys.exit(0)"
ENTRYPOINT ["wifimon"]
CMD ["run", "/config/wifimon.yaml"]
