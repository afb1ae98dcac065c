package adapter

import (
	"encoding/json"

	lru "github.com/hashicorp/golang-lru/v2"
)

// channelVars are the keys kamreg reads from Kazoo's custom_channel_vars.
type channelVars struct {
	AuthorizingID           string `json:"Authorizing-ID"`
	AuthorizingType         string `json:"Authorizing-Type"`
	OwnerID                 string `json:"Owner-ID"`
	PresenceID              string `json:"Presence-ID"`
	RegisterOverwriteNotify any    `json:"Register-Overwrite-Notify"`
}

func parseChannelVars(s string) channelVars {
	var cv channelVars
	if s != "" {
		// Kazoo writes a JSON object; anything else is ignored.
		_ = json.Unmarshal([]byte(s), &cv)
	}
	return cv
}

// ChannelVarsCache keeps channel vars parsed, by their text: a realm's
// phones keep theirs from one list to the next, and parsing them is most
// of a mapping's cost. A nil cache parses every time.
type ChannelVarsCache struct {
	lru *lru.Cache[string, channelVars]
}

// NewChannelVarsCache returns a cache of at most size texts.
func NewChannelVarsCache(size int) *ChannelVarsCache {
	c, err := lru.New[string, channelVars](size)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &ChannelVarsCache{lru: c}
}

func (c *ChannelVarsCache) parse(s string) channelVars {
	if c == nil || s == "" {
		return parseChannelVars(s)
	}
	if cv, ok := c.lru.Get(s); ok {
		return cv
	}
	cv := parseChannelVars(s)
	c.lru.Add(s, cv)
	return cv
}
