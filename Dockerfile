# One image for every part of the service; the command picks the role (docker/entrypoint.sh):
#   api (default) | worker | migrate
# Everything the roles need is inside the image: nothing is downloaded when a container starts.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS base
# Keeps the prisma CLI from calling home for update checks, at build and at run time.
ENV CHECKPOINT_DISABLE=1 \
    PRISMA_HIDE_UPDATE_MESSAGE=1
WORKDIR /app

FROM base AS build
# --ignore-scripts: the install scripts that matter would fetch Prisma's native engines, which the
# "js" engine mode (prisma.config.ts) never uses; this matches how the project is verified.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY prisma ./prisma
COPY src ./src
RUN npm run build

FROM base AS prod-deps
# The prisma CLI and @prisma/adapter-pg are regular dependencies, so `migrate` works from here.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# The tester of the Compose demo, a stand-in for the upstream system, is development harness
# (dev/): it gets an image of its own, built from this stage with `target: tester`, and none of it
# reaches the service's image.
FROM build AS tester
COPY dev ./dev
USER node
ENTRYPOINT ["node", "--import", "tsx", "dev/tester/main.ts"]

# The last stage is what a plain `docker build .` makes: the service.
FROM base AS runtime
# The API listens on every interface of the container (outside one it defaults to loopback).
ENV NODE_ENV=production \
    HOST=0.0.0.0
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json prisma.config.ts ./
COPY prisma ./prisma
# The prisma CLI loads prisma.config.ts itself, and that file imports ./src/defaults (TypeScript),
# which imports only ./src/config-error.
COPY src/defaults.ts src/config-error.ts ./src/
COPY docker/entrypoint.sh ./docker/
# Files stay root-owned: the service only reads them.
USER node
EXPOSE 9090
ENTRYPOINT ["/bin/sh", "/app/docker/entrypoint.sh"]
CMD ["api"]
