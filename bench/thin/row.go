package main

import "time"

// row is one row of Kamailio's location table (schema version 9), every
// column under its own name: what query.List selects, as pgx scans it by
// name and encoding/json writes it. A struct, not a map per row, is what
// a plain Go service over a known table would use, and the cheaper of the
// two, so the yardstick is not made slow on purpose.
type row struct {
	ID           int32     `db:"id" json:"id"`
	Ruid         string    `db:"ruid" json:"ruid"`
	Username     string    `db:"username" json:"username"`
	Domain       *string   `db:"domain" json:"domain"`
	Contact      string    `db:"contact" json:"contact"`
	Received     *string   `db:"received" json:"received"`
	Path         *string   `db:"path" json:"path"`
	Expires      time.Time `db:"expires" json:"expires"`
	Q            float32   `db:"q" json:"q"`
	Callid       string    `db:"callid" json:"callid"`
	Cseq         int32     `db:"cseq" json:"cseq"`
	LastModified time.Time `db:"last_modified" json:"last_modified"`
	Flags        int32     `db:"flags" json:"flags"`
	Cflags       int32     `db:"cflags" json:"cflags"`
	UserAgent    string    `db:"user_agent" json:"user_agent"`
	Socket       *string   `db:"socket" json:"socket"`
	Methods      *int32    `db:"methods" json:"methods"`
	Instance     *string   `db:"instance" json:"instance"`
	RegID        int32     `db:"reg_id" json:"reg_id"`
	ServerID     int32     `db:"server_id" json:"server_id"`
	ConnectionID int32     `db:"connection_id" json:"connection_id"`
	Keepalive    int32     `db:"keepalive" json:"keepalive"`
	Partition    int32     `db:"partition" json:"partition"`
}
