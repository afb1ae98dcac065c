-- A realm flush records a realm-wide flush record: ruid, username and
-- callid '' and its domain, last_modified the instant the flush began. It
-- hides every row of the realm last modified no later than that (rows
-- usrloc db_mode 2 writes late). The key becomes (domain, ruid) so that
-- each realm keeps one such record beside its per-ruid records; every
-- record already there keeps its values and stays in force (ruid was
-- unique, so no two records share a key).

-- +goose Up
ALTER TABLE kamreg_flushes DROP CONSTRAINT kamreg_flushes_pkey;
ALTER TABLE kamreg_flushes ADD PRIMARY KEY (domain, ruid);

-- +goose Down
DELETE FROM kamreg_flushes WHERE ruid = '';
ALTER TABLE kamreg_flushes DROP CONSTRAINT kamreg_flushes_pkey;
ALTER TABLE kamreg_flushes ADD PRIMARY KEY (ruid);
