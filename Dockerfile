# liteio dev image: nginx (TLS, dev CA) + liteio, started by the same scripts/stack.sh as `make run`.
#   docker compose up --build      → https://localhost:8443, state in the liteio-dev volume
# The base images are build args so that a local check can pass locally built ones.
ARG BASE=debian:bookworm-slim
ARG SWIFT_IMAGE=swift:6.1-bookworm

FROM ${SWIFT_IMAGE} AS builder
WORKDIR /src
# Dependencies first: this layer is reused until the install script changes.
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh build
COPY Package.swift ./
COPY Sources Sources
# SwiftPM checks every target's folder, test targets included, even for a release build.
COPY Tests Tests
# Static Swift runtime: the runtime image needs no toolchain, only the C libraries below.
RUN swift build -c release --static-swift-stdlib \
    && install -D -m 755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/liteio" /out/liteio

FROM ${BASE}
# Same script as on a developer's machine, runtime part only (nginx, libfcgi, OpenSSL, curl...).
COPY scripts/install-deps.sh /opt/liteio/scripts/install-deps.sh
RUN /opt/liteio/scripts/install-deps.sh runtime && rm -rf /var/lib/apt/lists/*
COPY scripts /opt/liteio/scripts
COPY nginx /opt/liteio/nginx
COPY --from=builder /out/liteio /usr/local/bin/liteio
# Fail the build, not the first start, if a shared library is missing.
RUN if ldd /usr/local/bin/liteio | grep 'not found'; then exit 1; fi

# Listen on all interfaces inside the container; compose.yaml publishes the port on loopback.
ENV LITEIO_BIN=/usr/local/bin/liteio \
    LITEIO_BIND=0.0.0.0
EXPOSE 8443
VOLUME ["/var/lib/liteio-dev"]
# stack.sh traps SIGTERM and stops nginx, then liteio, gracefully.
STOPSIGNAL SIGTERM
# Any HTTP answer (403 for an anonymous request) means nginx and liteio are both up.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
    CMD curl -s -o /dev/null --cacert /var/lib/liteio-dev/certs/ca.pem https://localhost:8443/ || exit 1
CMD ["/opt/liteio/scripts/stack.sh", "foreground", "/var/lib/liteio-dev", "8443"]
