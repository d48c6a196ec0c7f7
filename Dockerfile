# The image `headroom k8s --image` runs: headroom on its PATH, nothing else.
#   docker build -t registry.internal/headroom:0.1 . && docker push registry.internal/headroom:0.1
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY benches benches
COPY loadplans loadplans
RUN cargo build --release --locked && strip target/release/headroom

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/headroom /usr/local/bin/headroom
# The results of a shard without a results claim are its standard output.
ENTRYPOINT ["headroom"]
