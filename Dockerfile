# Mirage's migrate job image (and the services' binaries).
#
#   docker build -t mirage-migrate .
#   docker run --rm -e MIRAGE_DATABASE_URL=postgresql://... mirage-migrate
#
# The build stage runs tools/container-build.sh, which the test suite also
# runs (tests/integration/container.sh), so the recipe cannot rot. The
# image runs `mirage-migrate --wait upgrade head`: it waits for the database
# to accept connections, then migrates it; Kubernetes: deploy/k8s/.

FROM debian:12-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential meson ninja-build pkg-config libpq-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN sh tools/container-build.sh /src /build /out

# The services (docker build --target services): mirage-api and
# mirage-indexer, which verify the schema at startup and refuse to start
# unless it is at the head they were built for.
FROM debian:12-slim AS services
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/usr/local/bin/mirage-api /out/usr/local/bin/mirage-indexer /usr/local/bin/
USER 65534:65534
CMD ["/usr/local/bin/mirage-api"]

# The migrate job (the default target): mirage-migrate with Mirage's
# revisions built in.
FROM debian:12-slim AS migrate
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/usr/local/bin/mirage-migrate /usr/local/bin/
USER 65534:65534
ENTRYPOINT ["/usr/local/bin/mirage-migrate"]
CMD ["--wait", "upgrade", "head"]
