# wifimon's image. It builds nothing and reaches no package index for Python: the wheels are made outside
# (`make wheels`: exactly what requirements.lock pins, hash-checked, plus wifimon's own wheel) and installed
# here with --no-index. See the README, "The Docker image".
#
#   make wheels && docker build -t wifimon:local .                             # the official python:3.11 base
#   docker build --build-arg BASE=wifimon-base:bookworm -t wifimon:local .      # a debootstrap base (README)
#
# BASE must carry Python 3.11 with its venv module as $PYTHON (python3): the wheels are cp311, glibc 2.17-2.36.
# fonts-nanum (the Korean font of the PDF report) is installed with apt-get unless the base has it.
ARG BASE=python:3.11.14-slim-bookworm

FROM ${BASE} AS install
ARG PYTHON=python3
COPY requirements.lock /tmp/requirements.lock
COPY build/wheels/*.whl /tmp/wheels/
RUN "$PYTHON" -c 'import sys; sys.exit(None if sys.version_info[:2] == (3, 11) else \
        f"wifimon image: the base has Python {sys.version.split()[0]}; the wheels are for 3.11")' \
 && "$PYTHON" -m venv /opt/wifimon \
 && /opt/wifimon/bin/pip install --no-index --no-cache-dir --disable-pip-version-check \
        --find-links /tmp/wheels --require-hashes -r /tmp/requirements.lock
# wifimon itself in a layer of its own: a change of its code leaves the dependencies' layer as it was.
COPY build/wheels/app/ /tmp/app/
RUN /opt/wifimon/bin/pip install --no-index --no-cache-dir --disable-pip-version-check --no-deps /tmp/app/wifimon-*.whl \
 && /opt/wifimon/bin/pip check --disable-pip-version-check \
 && /opt/wifimon/bin/pip uninstall --yes --quiet --disable-pip-version-check pip setuptools

FROM ${BASE}
RUN if [ ! -e /usr/share/fonts/truetype/nanum/NanumGothic.ttf ]; then \
        apt-get update && apt-get install -y --no-install-recommends fonts-nanum && rm -rf /var/lib/apt/lists/*; \
    fi \
 && groupadd --system --gid 10001 wifimon \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/wifimon --create-home \
        --shell /usr/sbin/nologin wifimon
COPY --from=install /opt/wifimon /opt/wifimon
# WIFIMON_HEALTH_URL: where the HEALTHCHECK asks; change it with the listen address (`--listen`).
ENV PATH=/opt/wifimon/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    WIFIMON_CONFIG=/config/wifimon.yaml \
    WIFIMON_HEALTH_URL=http://127.0.0.1:9810/healthz
USER 10001:10001
WORKDIR /var/lib/wifimon
# The configuration (wifimon.yaml and its secret files) is mounted read-only at /config; a SQLite store with a
# relative path lands here.
VOLUME ["/var/lib/wifimon"]
EXPOSE 9810
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['WIFIMON_HEALTH_URL'], timeout=4)"]
# Exec form: wifimon is PID 1 and gets `docker stop`'s SIGTERM itself (it stops on SIGTERM and SIGINT).
STOPSIGNAL SIGTERM
ENTRYPOINT ["wifimon"]
CMD ["run", "/config/wifimon.yaml"]
