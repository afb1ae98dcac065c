# kamreg: a static binary on a minimal, non-root base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/kamreg ./cmd/kamreg

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/kamreg /usr/local/bin/kamreg
USER nonroot:nonroot
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/kamreg"]
CMD ["serve"]
