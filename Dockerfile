# The bewijslast command in an image: `docker run IMAGE demo`, or the services of
# docker-compose.yml. No keys are baked in: they come as secrets at run time (docs/DEPLOYING.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# The dependencies first, in a layer of their own that only a change to pyproject.toml or the
# lock rebuilds: a change to the code alone then does not install them all again. At the
# versions of requirements.lock, which CI tested, not the newest the ranges allow.
WORKDIR /build
COPY pyproject.toml requirements.lock ./
RUN python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"], sep="\n")' \
        > dependencies.txt \
    && pip install -c requirements.lock -r dependencies.txt
# Then only what the package is built from (pyproject.toml names README.md as its readme).
COPY README.md ./
COPY domain ./domain
COPY ledger ./ledger
COPY projections ./projections
COPY adapters ./adapters
RUN pip install . --no-deps && rm -rf /build

# A user of its own, by number so that runtimes can tell it is not root (secrets are given to
# uid 10001). Its home is where the embedded default keeps bewijslast.db; state/ is where
# docker-compose.yml mounts the checkpointer's state (a new named volume takes the owner of
# the folder it is mounted over, so the folder must exist in the image).
RUN groupadd --system --gid 10001 bewijslast \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/bewijslast --create-home \
        --shell /usr/sbin/nologin bewijslast \
    && install -d -o 10001 -g 10001 -m 700 /var/lib/bewijslast/state
USER 10001:10001
WORKDIR /var/lib/bewijslast

EXPOSE 8000
ENTRYPOINT ["bewijslast"]
CMD ["serve", "--host", "0.0.0.0"]
