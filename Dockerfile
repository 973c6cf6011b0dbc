# Harrow controller and agent image. For agents, build your own image FROM this one with your
# training code and its dependencies (CUDA, PyTorch, ...): the agent runs commands in its cwd.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3 python-is-python3 tini \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/harrow
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY protocol ./protocol
COPY strategies ./strategies
COPY db ./db
COPY controller ./controller
COPY agent ./agent
COPY cli ./cli
COPY web ./web
COPY sdk ./sdk
COPY examples ./examples
RUN npm ci --ignore-scripts --no-audit --no-fund \
    && npx tsc -p tsconfig.json \
    && npm prune --omit=dev --no-audit --no-fund
ENV PATH="/opt/harrow/bin:${PATH}" NODE_ENV=production
ENTRYPOINT ["/usr/bin/tini", "--", "harrow"]
CMD ["server"]
