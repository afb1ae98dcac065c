-- kamreg's own tables. Kamailio's location and location_attrs are never
-- touched here.

-- +goose Up
CREATE TABLE kamreg_accounts (
    id          text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
    name        text NOT NULL,
    realm       text NOT NULL CHECK (realm <> ''),
    parent_id   text REFERENCES kamreg_accounts (id),
    superduper  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_id IS NULL OR parent_id <> id)
);
-- One account per realm; realms compare case-insensitively.
CREATE UNIQUE INDEX kamreg_accounts_realm_idx ON kamreg_accounts (lower(realm));
CREATE INDEX kamreg_accounts_parent_idx ON kamreg_accounts (parent_id);

CREATE TABLE kamreg_devices (
    account_id                 text NOT NULL REFERENCES kamreg_accounts (id) ON DELETE CASCADE,
    username                   text NOT NULL CHECK (username <> ''),
    device_id                  text NOT NULL CHECK (device_id ~ '^[0-9a-f]{32}$'),
    owner_id                   text CHECK (owner_id ~ '^[0-9a-f]{32}$'),
    suppress_unregister_notify boolean NOT NULL DEFAULT false,
    updated_at                 timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX kamreg_devices_username_idx ON kamreg_devices (account_id, lower(username));

-- API tokens: only a SHA-256 of the secret part is kept.
CREATE TABLE kamreg_tokens (
    id           text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
    account_id   text NOT NULL REFERENCES kamreg_accounts (id) ON DELETE CASCADE,
    secret_hash  bytea NOT NULL,
    description  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
CREATE INDEX kamreg_tokens_account_idx ON kamreg_tokens (account_id);

-- Flush records: after a flush every node acknowledged, the location rows
-- the flushed AoRs had at that moment are hidden until Kamailio's timer has
-- removed them (usrloc db_mode 2 removes rows late). A row is hidden only
-- while it is the same binding in the same state: a phone that registers
-- again sends a new Call-ID or a higher CSeq, and shows again at once.
CREATE TABLE kamreg_flushes (
    ruid           text PRIMARY KEY,
    callid         text NOT NULL,
    cseq           integer NOT NULL,
    last_modified  timestamp without time zone NOT NULL,
    expires_at     timestamptz NOT NULL
);
CREATE INDEX kamreg_flushes_expires_idx ON kamreg_flushes (expires_at);

-- +goose Down
DROP TABLE kamreg_flushes;
DROP TABLE kamreg_tokens;
DROP TABLE kamreg_devices;
DROP TABLE kamreg_accounts;
