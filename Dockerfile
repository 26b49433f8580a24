# syntax=docker/dockerfile:1
# bgpd container image: `docker build -t bgpd:latest .` from the repository root.
#
# Two stages: a Rust builder (etcd-client's build script runs protoc, hence protobuf-compiler
# and libprotobuf-dev for the well-known .proto files), then a small Debian runtime with the
# two binaries (bgpd, bgpctl) and CA certificates (TLS to etcd / the API server).
#
# Root, not a non-root user: bgpd needs CAP_NET_ADMIN (kernel routes over netlink) and
# CAP_NET_BIND_SERVICE (port 179); it opens no raw socket and TCP_MD5SIG needs no
# capability, so CAP_NET_RAW is not granted. A non-root user
# would need file capabilities (setcap) on the binary, and those are ignored when the
# container runs with allowPrivilegeEscalation: false (no_new_privs), which every hardened
# policy sets. So the process runs as UID 0 with every capability dropped except those two
# (see examples/kubernetes/daemonset.yaml): root without CAP_SYS_ADMIN, CAP_DAC_OVERRIDE etc.
# cannot do more than those capabilities allow, and the root filesystem is read-only.

FROM rust:1-bookworm AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends protobuf-compiler libprotobuf-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY bgp-core bgp-core
COPY route-sync route-sync
COPY bgpd bgpd
# The registry and target directory are BuildKit cache mounts: a rebuild after a source change
# recompiles only the workspace crates. The binaries are copied out of the cache mount.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p bgpd --bins \
 && mkdir -p /out \
 && cp target/release/bgpd target/release/bgpctl /out/

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=builder /out/bgpd /out/bgpctl /usr/local/bin/
LABEL org.opencontainers.image.title="bgpd" \
      org.opencontainers.image.description="BGP speaker and kernel route distributor for Kubernetes nodes (Calico BGP mode without BIRD, or plain clusters)" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.documentation="docs/kubernetes.md"
# 179: BGP. 9179: /metrics, /healthz, /readyz (only when http_listen is not loopback).
EXPOSE 179 9179
# SIGTERM: graceful-restart shutdown (sessions closed without NOTIFICATION, kernel routes kept).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/bgpd"]
CMD ["--config", "/etc/bgpd/bgpd.yaml"]
