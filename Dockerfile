# Multi-stage build of cofferd and the coffer admin CLI into a small image.
#
# Build:  docker build -t coffer .
# Run:    docker run -p 9000:9000 -v coffer-data:/data coffer
# The data volume holds the repository, the metadata store and the master key
# file: back up the master key separately (see docs/quickstart.md).

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p coffer-server -p coffer-admin \
    && install -D -m 0755 target/release/cofferd /out/cofferd \
    && install -D -m 0755 target/release/coffer /out/coffer \
    && mkdir -p /out/data

# distroless/cc carries glibc and libgcc, which the binaries link against,
# and nothing else: no shell, no package manager.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/cofferd /out/coffer /usr/local/bin/
# An empty /data owned by the runtime user, so a fresh named volume is writable
# (the final stage has no shell to chown with).
COPY --from=build --chown=65532:65532 /out/data /data
ENV COFFER_DATA_DIR=/data \
    COFFER_LISTEN=0.0.0.0:9000
VOLUME ["/data"]
EXPOSE 9000
USER nonroot
ENTRYPOINT ["/usr/local/bin/cofferd"]
