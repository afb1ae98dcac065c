package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kamreg/kamreg"
	"github.com/kamreg/kamreg/app"
	"github.com/kamreg/kamreg/store"
)

// adminCommand parses the shared flags plus the command's own, opens the
// database and runs fn.
func adminCommand(ctx context.Context, name string, args []string, own func(*flag.FlagSet), fn func(*flag.FlagSet, *pgxpool.Pool) error) error {
	var c app.Config
	fs := c.Flags(name, false)
	if own != nil {
		own(fs)
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkConfig(&c, false); err != nil {
		return err
	}
	pool, err := store.Open(ctx, c.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	return fn(fs, pool)
}

func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

func migrateCmd(ctx context.Context, args []string, stdout io.Writer) error {
	var c app.Config
	if err := parse(c.Flags("migrate", false), args); err != nil {
		return err
	}
	if err := checkConfig(&c, false); err != nil {
		return err
	}
	log := c.Logger(os.Stderr)
	pool, err := app.OpenDatabase(ctx, &c, true, true, log)
	if err != nil {
		return err
	}
	pool.Close()
	return nil
}

func accountsPut(ctx context.Context, args []string, stdout io.Writer) error {
	var a kamreg.Account
	return adminCommand(ctx, "accounts put", args, func(fs *flag.FlagSet) {
		fs.StringVar(&a.ID, "id", "", "account id (32 lowercase hex)")
		fs.StringVar(&a.Name, "name", "", "account name")
		fs.StringVar(&a.Realm, "realm", "", "the SIP realm the account's phones register in")
		fs.StringVar(&a.ParentID, "parent", "", "parent account id")
		fs.BoolVar(&a.SuperDuper, "superduper", false, "super-duper account: may act on every account")
	}, func(fs *flag.FlagSet, pool *pgxpool.Pool) error {
		if err := noArgs(fs); err != nil {
			return err
		}
		if err := (store.Accounts{Pool: pool}).Put(ctx, a); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %s saved\n", a.ID)
		return nil
	})
}

func accountsList(ctx context.Context, args []string, stdout io.Writer) error {
	return adminCommand(ctx, "accounts list", args, nil, func(fs *flag.FlagSet, pool *pgxpool.Pool) error {
		if err := noArgs(fs); err != nil {
			return err
		}
		accounts, err := store.Accounts{Pool: pool}.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tREALM\tPARENT\tSUPERDUPER")
		for _, a := range accounts {
			parent := a.ParentID
			if parent == "" {
				parent = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%t\n", a.ID, a.Name, a.Realm, parent, a.SuperDuper)
		}
		return tw.Flush()
	})
}

func devicesPut(ctx context.Context, args []string, stdout io.Writer) error {
	var d kamreg.Device
	return adminCommand(ctx, "devices put", args, func(fs *flag.FlagSet) {
		fs.StringVar(&d.AccountID, "account", "", "account id")
		fs.StringVar(&d.Username, "username", "", "SIP username")
		fs.StringVar(&d.DeviceID, "device-id", "", "Kazoo device id (32 lowercase hex)")
		fs.StringVar(&d.OwnerID, "owner-id", "", "Kazoo user id owning the device")
		fs.BoolVar(&d.SuppressUnregisterNotify, "suppress-unregister-notify", false, "the device's suppress_unregister_notify flag")
	}, func(fs *flag.FlagSet, pool *pgxpool.Pool) error {
		if err := noArgs(fs); err != nil {
			return err
		}
		if err := (store.Devices{Pool: pool}).Put(ctx, d); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "device %s saved\n", d.DeviceID)
		return nil
	})
}

func tokensCreate(ctx context.Context, args []string, stdout io.Writer) error {
	var account, description string
	return adminCommand(ctx, "tokens create", args, func(fs *flag.FlagSet) {
		fs.StringVar(&account, "account", "", "account id the token acts as")
		fs.StringVar(&description, "description", "", "free text")
	}, func(fs *flag.FlagSet, pool *pgxpool.Pool) error {
		if err := noArgs(fs); err != nil {
			return err
		}
		token, err := store.Tokens{Pool: pool}.Create(ctx, account, description)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, token)
		return err
	})
}

func tokensRevoke(ctx context.Context, args []string, stdout io.Writer) error {
	return adminCommand(ctx, "tokens revoke", args, nil, func(fs *flag.FlagSet, pool *pgxpool.Pool) error {
		if fs.NArg() != 1 {
			return usageError{"want exactly one TOKEN_ID (the part of the token before the dot)"}
		}
		id := fs.Arg(0)
		err := store.Tokens{Pool: pool}.Revoke(ctx, id)
		if errors.Is(err, kamreg.ErrNotFound) {
			return fmt.Errorf("no live token with id %s", id)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %.32s revoked\n", id)
		return nil
	})
}
