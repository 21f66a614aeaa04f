# The release image, built by GoReleaser (.goreleaser.yaml, dockers_v2) from
# the static linux binary it has already built; not for "docker build ."
# (the build context holds only linux/<arch>/arsync).
#
# distroless "static": no shell, no package manager; CA certificates for
# Microsoft Graph's TLS and time zone data. "nonroot" runs as uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
ARG TARGETPLATFORM
COPY $TARGETPLATFORM/arsync /usr/local/bin/arsync
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/arsync"]
