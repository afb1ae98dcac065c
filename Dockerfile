# kamreg: a static binary on a minimal, non-root base.
#   docker build --build-arg VERSION=$(git describe --always --dirty) .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/kamreg ./cmd/kamreg

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/kamreg /usr/local/bin/kamreg
USER nonroot:nonroot
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/kamreg"]
CMD ["serve"]
