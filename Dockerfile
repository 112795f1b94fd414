# newsflow workers: one image, the command picks the role (poll | worker | index | search).
#   docker build -t newsflow:dev .   &&   docker run --rm newsflow:dev --help
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Dependencies first, from pyproject alone, so editing code does not re-download them.
# No compiler is installed: faust-streaming, rocksdict, fasttext-predict, lxml ... all
# ship manylinux wheels for CPython 3.11 (checked with pip download --only-binary).
COPY pyproject.toml ./
RUN python -c "import tomllib; d = tomllib.load(open('pyproject.toml', 'rb')); \
print('\n'.join(d['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install --prefer-binary -r /tmp/requirements.txt

# README.md* : the glob keeps the build working before the README exists.
COPY README.md* ./
COPY pipeline ./pipeline
COPY connectors ./connectors
RUN pip install --no-deps . && rm -rf /src

# The package lives in site-packages, so the config is found via NEWSFLOW_CONFIG, and
# state paths are absolute (docker-compose.yml mounts volumes there).
WORKDIR /app
COPY config ./config
RUN useradd --system --create-home --uid 10001 newsflow \
    && mkdir -p /var/lib/newsflow/state /var/lib/newsflow/faust \
    && chown -R newsflow:newsflow /var/lib/newsflow
ENV NEWSFLOW_CONFIG=/app/config/newsflow.yaml \
    NEWSFLOW_POLLER__FEEDS_FILE=/app/config/feeds.yaml \
    NEWSFLOW_ES__TEMPLATE_FILE=/app/config/elasticsearch/articles-template.json \
    NEWSFLOW_POLLER__STATE_DIR=/var/lib/newsflow/state \
    NEWSFLOW_WORKER__DATA_DIR=/var/lib/newsflow/faust

USER newsflow
ENTRYPOINT ["newsflow"]
CMD ["--help"]
