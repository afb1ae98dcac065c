package kamreg

import "strings"

// Directory is what kamreg's own tables say about some realms: the
// account of each realm and the devices of its usernames. Realms and
// usernames compare case-insensitively.
type Directory struct {
	accounts map[string]Account
	devices  map[[2]string]Device
}

// NewDirectory returns an empty directory.
func NewDirectory() *Directory {
	return &Directory{accounts: map[string]Account{}, devices: map[[2]string]Device{}}
}

// AddAccount adds an account under its realm.
func (d *Directory) AddAccount(a Account) { d.accounts[strings.ToLower(a.Realm)] = a }

// AddDevice adds a device under the realm of its account.
func (d *Directory) AddDevice(realm string, dev Device) {
	d.devices[[2]string{strings.ToLower(realm), strings.ToLower(dev.Username)}] = dev
}

// Account returns the account of a realm.
func (d *Directory) Account(realm string) (Account, bool) {
	if d == nil {
		return Account{}, false
	}
	a, ok := d.accounts[strings.ToLower(realm)]
	return a, ok
}

// Device returns the device of username in realm.
func (d *Directory) Device(realm, username string) (Device, bool) {
	if d == nil {
		return Device{}, false
	}
	dev, ok := d.devices[[2]string{strings.ToLower(realm), strings.ToLower(username)}]
	return dev, ok
}
