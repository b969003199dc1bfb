# Peregrine container image: Debian 12 slim, non-root, read-only root
# filesystem friendly.
#   docker build -t peregrine:0.1.0 .
#   docker run --read-only -p 9765:9765 -p 8765:8765 peregrine:0.1.0
# The default configuration (deploy/peregrine.yaml) listens for the audit
# webhook on :9765 (plain HTTP) and serves /healthz, /readyz and /metrics on
# :8765; mount your own at /etc/peregrine/peregrine.yaml, or pass -c.

# --- build --------------------------------------------------------------
FROM debian:12-slim AS build
WORKDIR /src
COPY scripts/deps.sh scripts/deps.sh
RUN scripts/deps.sh --build && rm -rf /var/lib/apt/lists/*
COPY Makefile ./
COPY src src
COPY rules rules
COPY docs/peregrine.1 docs/peregrine.1
COPY deploy/peregrine.yaml deploy/peregrine.yaml
COPY deploy/systemd/peregrine.service deploy/systemd/peregrine.service
RUN make -j"$(nproc)" \
 && make install DESTDIR=/out PREFIX=/usr \
 && rm -rf /out/usr/lib/systemd \
 && /out/usr/bin/peregrine -V /out/etc/peregrine/rules
# The runtime packages are the ones that own the libraries the binary links
# (so a new library dependency needs no change here), plus those it loads
# when a feature needs them (dlopen: the webhook and admin server's
# libmicrohttpd and GnuTLS, src/util/mhd_api.c; the http output's libcurl,
# src/output/channel_http.c; Vectorscan for large rule sets,
# src/util/hs_api.c), which ldd does not list.  dpkg may know a
# library under /lib rather than /usr/lib (merged /usr).
RUN dl="libmicrohttpd.so.12 libgnutls.so.30 libcurl.so.4 libhs.so.5" \
 && for p in $( { ldd /out/usr/bin/peregrine | awk '$3 ~ /^\// { print $3 }'; \
                  for so in $dl; do ldconfig -p | awk -v so="$so" '$1 == so { print $NF; exit }'; done; } \
                | xargs -r realpath); do \
      dpkg -S "$p" 2>/dev/null || dpkg -S "${p#/usr}"; \
    done | cut -d: -f1 | sort -u > /out/.runtime-packages \
 && cat /out/.runtime-packages

# --- runtime ------------------------------------------------------------
FROM debian:12-slim
COPY --from=build /out/.runtime-packages /tmp/runtime-packages
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(cat /tmp/runtime-packages) \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages \
 && groupadd --system --gid 10001 peregrine \
 && useradd --system --uid 10001 --gid peregrine --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin peregrine
COPY --from=build /out/usr/bin/peregrine /usr/bin/peregrine
COPY --from=build /out/etc/peregrine /etc/peregrine
# Numeric, so that Kubernetes can check runAsNonRoot.
USER 10001:10001
EXPOSE 9765 8765
# No HTTP client in the image: bash's /dev/tcp asks the admin server.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8765 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/peregrine"]
CMD ["-c", "/etc/peregrine/peregrine.yaml"]
