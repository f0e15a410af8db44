# One image for the worker, the gateway and the fleet simulator; the command picks the process.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY models ./models
COPY core ./core
COPY metrics ./metrics
COPY runtime ./runtime
COPY activities ./activities
COPY workflows ./workflows
COPY worker ./worker
COPY api ./api
COPY simulator ./simulator
ENV NODE_ENV=production
CMD ["npx", "tsx", "api/main.ts"]
