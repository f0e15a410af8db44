# One image for the worker, the gateway and the fleet simulator; the command picks the process.
# They run compiled JavaScript: `npm run build` compiles with tsc into dist/ and pre-builds the workflow
# bundle (dist/workflow-bundle.js), so no process loads tsx and the worker never loads webpack.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY agent ./agent
COPY cli ./cli
COPY models ./models
COPY core ./core
COPY contract ./contract
COPY metrics ./metrics
COPY runtime ./runtime
COPY activities ./activities
COPY workflows ./workflows
COPY worker ./worker
COPY api ./api
COPY simulator ./simulator
COPY scripts ./scripts
RUN npm run build
ENV NODE_ENV=production
ENV WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
# Node flags and environment per process as scripts/processes.ts NODE_FLAGS and PROCESS_ENV (docker-compose.yml passes them per service).
CMD ["node", "dist/api/main.js"]
