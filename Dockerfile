# liteio dev image: nginx (TLS, dev CA) + liteio, started by the same scripts/stack.sh as `make run`.
#   docker compose up --build      → https://localhost:8443, state in the liteio-dev volume
#
# The base images are build args so that a local check can pass locally built ones:
#   BASE             runtime base (Debian 12)
#   SWIFT_IMAGE      builder base; normally the public Swift image (toolchain included)
#   SWIFT_TOOLCHAIN  empty (default): use the swift of SWIFT_IMAGE. Otherwise the directory whose bin/
#                    holds swift (e.g. /opt/swift/usr) of a toolchain mounted into the RUN steps
#                    (`podman build -v /opt/swift/usr:/opt/swift/usr:ro`), to build on a plain Debian
#                    SWIFT_IMAGE; the toolchain's own runtime packages are then installed here.
#                    scripts/docker-test.sh does this, so no Swift image has to be pulled.
ARG BASE=debian:bookworm-slim
ARG SWIFT_IMAGE=swift:6.1-bookworm

FROM ${SWIFT_IMAGE} AS builder
ARG SWIFT_TOOLCHAIN=
WORKDIR /src
# Dependencies first: this layer is reused until the install script changes.
# With SWIFT_TOOLCHAIN, first what the public Swift image brings for its toolchain: the linker
# (ld.gold), the C/C++ runtime and headers, libxml2-dev (FoundationXML links -lxml2) and the shared
# libraries swift-frontend, swift-driver and swift-build load.
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN set -eu; \
    if [ -n "$SWIFT_TOOLCHAIN" ]; then \
        [ -x "$SWIFT_TOOLCHAIN/bin/swift" ] || { \
            echo "SWIFT_TOOLCHAIN=$SWIFT_TOOLCHAIN has no bin/swift: mount the toolchain into the build" >&2; \
            exit 1; }; \
        export PATH="$SWIFT_TOOLCHAIN/bin:$PATH"; \
        apt-get update -q; \
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            binutils libc6-dev libgcc-12-dev libstdc++-12-dev libxml2-dev \
            libcurl4 libedit2 libncurses6 libsqlite3-0; \
    fi; \
    scripts/install-deps.sh build; \
    swift --version
COPY Package.swift ./
COPY Sources Sources
# SwiftPM checks every target's folder, test targets included, even for a release build.
# (.dockerignore leaves out Tests/e2e, the Python suite.)
COPY Tests Tests
# Static Swift runtime: the runtime image needs no toolchain, only the C libraries below.
# .build is dropped in the same step, so the cached layer holds the binary only, not the objects.
RUN set -eu; \
    [ -z "$SWIFT_TOOLCHAIN" ] || export PATH="$SWIFT_TOOLCHAIN/bin:$PATH"; \
    swift build -c release --static-swift-stdlib; \
    install -D -m 755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/liteio" /out/liteio; \
    rm -rf .build

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
