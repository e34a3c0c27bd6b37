# Convscope in a container: `docker build -t convscope .` then
#   docker run -p 8000:8000 convscope                                   # http://localhost:8000/
#   docker run -p 8000:8000 -e ROOT_PATH=/convscope --cpus 2 convscope  # behind deploy/nginx.conf
# PORT, ROOT_PATH, WEB_CONCURRENCY (default: one worker per CPU of the container's quota),
# LIMIT_CONCURRENCY and FORWARDED_ALLOW_IPS are read by app/serve.py (python -m app.serve).

# Stage 1: the front-end assets, exactly as package-lock.json pins them.
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

# Stage 2: a slim Python runtime, run by a user that owns nothing it serves.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PORT=8000
RUN useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin convscope
WORKDIR /srv/convscope
COPY requirements.txt ./
RUN pip install --no-compile -r requirements.txt
COPY --from=assets /src/node_modules ./node_modules
COPY app ./app
COPY templates ./templates
COPY static ./static
USER convscope
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)"]
CMD ["python", "-m", "app.serve"]
