# The remedy-operator image. Build from the repository root:
#   docker build -t remedy-operator:0.1.0 .
# Two stages: Debian's packages build the binaries (nothing is downloaded but
# Debian packages), and a slim Debian with only the runtime libraries runs them
# as a non-root user. charts/remedy deploys it.

FROM debian:bookworm AS build
# Exactly the BUILD_PACKAGES of scripts/install-deps.sh (e2e/chart_test.py
# fails when the two lists differ).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libcpprest-dev libyaml-cpp-dev nlohmann-json3-dev libssl-dev \
      prometheus-cpp-dev libspdlog-dev libgtest-dev libgmock-dev \
      libpq-dev libhiredis-dev libre2-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
 && cmake --build build --target remedy-operator remedyctl

FROM debian:bookworm-slim
# The shared libraries the binaries link (their own dependencies, such as
# libfmt9 and libcivetweb1, come with them), and the CA bundle for HTTPS to
# webhooks, Prometheus and the API server.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates \
      libcpprest2.10 libyaml-cpp0.7 libssl3 \
      libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 \
      libspdlog1.10 libpq5 libhiredis0.14 libre2-9 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/operator/remedy-operator /usr/local/bin/remedy-operator
COPY --from=build /src/build/src/cli/remedyctl /usr/local/bin/remedyctl
# kubectl finds the plugin `kubectl remedy` under this name; and the build
# fails here, not at run time, if a library the binaries need is missing.
RUN ln -s remedyctl /usr/local/bin/kubectl-remedy \
 && ! ldd /usr/local/bin/remedy-operator /usr/local/bin/remedyctl | grep 'not found'
# The webhook, metrics and health ports of charts/remedy's defaults.
EXPOSE 9443 8080 8081
# A numeric non-root user (the chart's runAsUser): no passwd entry is needed,
# and runAsNonRoot can verify it.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/remedy-operator"]
