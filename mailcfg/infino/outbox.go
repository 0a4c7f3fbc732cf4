package infino

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"infino.legal/mailbox/mailcfg"
	"infino.legal/mailbox/mailcfg/secrets"
)

// Outbox file names: <id>.json is an entry waiting to be sent; <id>.adding
// marks an entry being added (its secret may be in the store before the
// entry is written); <id>.done an entry Infino has answered whose secret is
// being deleted; quarantine/ holds files that could not be read, each with a
// .reason file; <name>.corrupt-… is where older versions moved those;
// .lock serialises senders.
const (
	entrySuffix   = ".json"
	addSuffix     = ".adding"
	doneSuffix    = ".done"
	corruptMarker = ".corrupt-"
	quarantineDir = "quarantine"
	reasonSuffix  = ".reason"
	lockName      = ".lock"
	// staleTmp: temporary files older than this are left-overs of a crash.
	staleTmp = time.Hour
	// entryVersion is the format of entry files.
	entryVersion = 1
	// maxEntryFile bounds what is read of an entry file: settings (at most
	// mailcfg.MaxSettingsJSON) plus bookkeeping and an escaped error detail.
	maxEntryFile = 1 << 20
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// NewUUID returns a random (version 4) UUID.
func NewUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("infino: no randomness: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Entry is the non-secret part of a submission waiting in the outbox. Its
// secret is in the Store under SecretKey(ID).
type Entry struct {
	Version int    `json:"v"`
	ID      string `json:"id"`
	// IdempotencyKey is sent with every attempt, so that Infino creates
	// the mailbox at most once.
	IdempotencyKey string `json:"idempotencyKey"`
	// InfinoURL is where the submission goes.
	InfinoURL  string           `json:"infinoUrl"`
	Settings   mailcfg.Settings `json:"settings"`
	SecretType string           `json:"secretType"`
	VerifiedAt time.Time        `json:"verifiedAt"`
	// Client is sent as "client" on every attempt (the same bytes every
	// time, even after an upgrade: Infino may compare replayed bodies).
	Client    ClientInfo `json:"client"`
	CreatedAt time.Time  `json:"createdAt"`
	// Attempts counts the calls that tried to send it (each may have made
	// several requests).
	Attempts    int       `json:"attempts"`
	LastAttempt time.Time `json:"lastAttempt,omitzero"`
	// NextAttempt is the earliest time an automatic flush tries again.
	NextAttempt time.Time `json:"nextAttempt,omitzero"`
	// LastError says why it is still waiting.
	LastError *EntryError `json:"lastError,omitempty"`
	// Op is "" (create the mailbox: POST) or OpReplace (replace the
	// settings of the existing mailbox MailboxID: PUT with If-Match).
	Op        string `json:"op,omitempty"`
	MailboxID string `json:"mailboxId,omitempty"`
	IfMatch   string `json:"ifMatch,omitempty"`
	// ReplaceIfExists: the user consented beforehand to replace what
	// Infino keeps if it already has the mailbox (a creation only).
	ReplaceIfExists bool `json:"replaceIfExists,omitempty"`
}

// OpReplace is the Op of an entry that replaces an existing mailbox's
// settings.
const OpReplace = "replace"

// EntryError is the reason an entry is still waiting.
type EntryError struct {
	Kind    Kind         `json:"kind"`
	Status  int          `json:"status,omitempty"`
	Message mailcfg.Text `json:"message"`
	Detail  string       `json:"detail,omitempty"`
}

// Reason is the sentence for the Done screen and "outbox list": why the
// entry is waiting (empty if it has not been tried).
func (e Entry) Reason() mailcfg.Text {
	if e.LastError == nil {
		return mailcfg.Text{}
	}
	return e.LastError.Message
}

func (e Entry) check(id string) error {
	switch {
	case e.Version != entryVersion:
		return fmt.Errorf("unknown version %d", e.Version)
	case e.ID != id:
		return fmt.Errorf("id %q does not match the file name", e.ID)
	case !uuidRE.MatchString(e.IdempotencyKey):
		return errors.New("no idempotency key")
	case e.Settings.Email == "":
		return errors.New("no settings")
	case e.Op != "" && e.Op != OpReplace:
		return fmt.Errorf("unknown op %q", e.Op)
	case e.Op == OpReplace && (!mailboxIDOK(e.MailboxID) || e.IfMatch == ""):
		return errors.New("a replacement without mailbox id or ETag")
	case e.Op == OpReplace && e.ReplaceIfExists:
		return errors.New("a replacement that would replace again")
	}
	if _, err := CheckBaseURL(e.InfinoURL); err != nil {
		return err
	}
	return nil
}

// SecretKey is the Store key of an outbox entry's secret:
// "outbox:<entry id>:secret".
func SecretKey(id string) string { return "outbox:" + id + ":secret" }

// Problem is an outbox file that could not be read. It has been moved aside
// (never deleted) so that nothing is lost silently.
type Problem struct {
	// File is where the file is now.
	File string
	// Original is its name before it was moved aside (empty if it was
	// moved by an earlier run).
	Original string
	Err      error
}

func (p Problem) Error() string {
	if p.Original != "" {
		return fmt.Sprintf("outbox file %s could not be read (%v); quarantined as %s, its secret removed", p.Original, p.Err, p.File)
	}
	return fmt.Sprintf("outbox file %s could not be read earlier and was moved aside", p.File)
}

// Outbox is the directory of waiting submissions. Several processes may use
// the same directory: sending an entry holds a lock file.
type Outbox struct {
	dir   string
	store secrets.Store
	now   func() time.Time
	mu    sync.Mutex // the in-process half of the lock
}

// NewOutbox opens the outbox in dir (created when first needed).
func NewOutbox(dir string, store secrets.Store, now func() time.Time) *Outbox {
	if now == nil {
		now = time.Now
	}
	return &Outbox{dir: dir, store: store, now: now}
}

// Dir is the outbox directory.
func (o *Outbox) Dir() string { return o.dir }

func (o *Outbox) path(id, suffix string) string { return filepath.Join(o.dir, id+suffix) }

func (o *Outbox) mkdir() error { return os.MkdirAll(o.dir, 0o700) }

// Lock serialises senders across processes; it waits until ctx ends. The
// lock is released by unlock, or by the OS if the process dies.
func (o *Outbox) Lock(ctx context.Context) (unlockFn func(), err error) {
	if err := o.mkdir(); err != nil {
		return nil, err
	}
	o.mu.Lock()
	f, err := os.OpenFile(filepath.Join(o.dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		o.mu.Unlock()
		return nil, err
	}
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			o.mu.Unlock()
			return nil, fmt.Errorf("outbox lock: %w", err)
		}
		if ok {
			return func() {
				unlock(f)
				f.Close()
				o.mu.Unlock()
			}, nil
		}
		if err := SleepContext(ctx, 50*time.Millisecond); err != nil {
			f.Close()
			o.mu.Unlock()
			return nil, err
		}
	}
}

// Add writes a new entry; the caller holds the lock. First a marker
// <id>.adding, then the secret into the Store, then the entry file, then the
// marker goes. A crash in between leaves the marker, and Sweep removes the
// secret it stands for; so neither an entry without its secret nor a secret
// without its entry outlives a crash. A file that cannot be written (disk
// full, read-only folder) is an *Error of KindLocalStorage and leaves
// nothing behind.
func (o *Outbox) Add(ctx context.Context, e Entry, s Secret) error {
	if !uuidRE.MatchString(e.ID) {
		return fmt.Errorf("outbox: bad entry id %q", e.ID)
	}
	if err := o.mkdir(); err != nil {
		return localError(err)
	}
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	marker := o.path(e.ID, addSuffix)
	if err := writeFileAtomic(marker, nil); err != nil {
		return localError(err)
	}
	if err := o.store.Set(ctx, SecretKey(e.ID), string(data)); err != nil {
		_ = removeDurable(marker)
		return storeError(err)
	}
	e.Version = entryVersion
	e.SecretType = s.Type
	if err := o.write(e); err != nil {
		_ = o.store.Delete(context.WithoutCancel(ctx), SecretKey(e.ID))
		_ = removeDurable(marker)
		return localError(err)
	}
	_ = removeDurable(marker) // a marker beside its entry is harmless: Sweep drops it
	return nil
}

// Sweep removes what a killed writer left behind: the secret of every
// marker without an entry, the markers, and temporary files. The caller
// holds the lock. It returns how many secrets it removed.
func (o *Outbox) Sweep(ctx context.Context) (int, error) {
	des, err := os.ReadDir(o.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, de := range des {
		if strings.HasPrefix(de.Name(), tmpPrefix) {
			// Every write into this directory holds the lock, so a
			// temporary file now is one a killed writer left.
			if err := os.Remove(filepath.Join(o.dir, de.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return removed, err
			}
			continue
		}
		id, ok := strings.CutSuffix(de.Name(), addSuffix)
		if !ok || !uuidRE.MatchString(id) {
			continue
		}
		if _, err := os.Stat(o.path(id, entrySuffix)); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				return removed, err
			}
			if err := o.store.Delete(ctx, SecretKey(id)); err != nil && !errors.Is(err, secrets.ErrNotFound) {
				return removed, storeError(err)
			}
			removed++
		}
		if err := removeDurable(o.path(id, addSuffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, err
		}
	}
	return removed, nil
}

func (o *Outbox) write(e Entry) error {
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(o.path(e.ID, entrySuffix), append(data, '\n'))
}

// Update rewrites an entry that is still waiting. It fails with
// fs.ErrNotExist if the entry has been completed meanwhile.
func (o *Outbox) Update(e Entry) error {
	if !uuidRE.MatchString(e.ID) {
		return fmt.Errorf("outbox: bad entry id %q", e.ID)
	}
	if _, err := os.Stat(o.path(e.ID, entrySuffix)); err != nil {
		return err
	}
	e.Version = entryVersion
	return o.write(e)
}

// Secret reads an entry's secret.
func (o *Outbox) Secret(ctx context.Context, id string) (Secret, error) {
	if !uuidRE.MatchString(id) {
		return Secret{}, fmt.Errorf("outbox: bad entry id %q", id)
	}
	v, err := o.store.Get(ctx, SecretKey(id))
	if err != nil {
		return Secret{}, err
	}
	var s Secret
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return Secret{}, fmt.Errorf("outbox: the stored secret of %s is unreadable", id)
	}
	return s, nil
}

// Complete removes an entry Infino has answered for good: the entry file is
// renamed to <id>.done (the commit point), then the secret is deleted, then
// the .done file. A crash in between is finished by the next List.
func (o *Outbox) Complete(ctx context.Context, id string) error {
	if !uuidRE.MatchString(id) {
		return fmt.Errorf("outbox: bad entry id %q", id)
	}
	if err := renameDurable(o.path(id, entrySuffix), o.path(id, doneSuffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return o.finish(ctx, id)
}

func (o *Outbox) finish(ctx context.Context, id string) error {
	if err := o.store.Delete(ctx, SecretKey(id)); err != nil && !errors.Is(err, secrets.ErrNotFound) {
		return storeError(err)
	}
	if err := removeDurable(o.path(id, doneSuffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Get reads one entry.
func (o *Outbox) Get(id string) (Entry, error) {
	if !uuidRE.MatchString(id) {
		return Entry{}, fs.ErrNotExist
	}
	return o.read(id)
}

func (o *Outbox) read(id string) (Entry, error) {
	data, err := readFileMax(o.path(id, entrySuffix), maxEntryFile)
	if errors.Is(err, errTooLarge) {
		return Entry{}, &corruptError{err}
	}
	if err != nil {
		return Entry{}, err
	}
	var v struct {
		Version int `json:"v"`
	}
	if json.Unmarshal(data, &v) == nil && v.Version > entryVersion {
		return Entry{}, errNewerEntry
	}
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Entry{}, &corruptError{err}
	}
	if _, err := dec.Token(); err != io.EOF {
		return Entry{}, &corruptError{errors.New("unexpected data after the entry")}
	}
	if err := e.check(id); err != nil {
		return Entry{}, &corruptError{err}
	}
	return e, nil
}

// errNewerEntry: the entry was written by a newer version of the app; it
// is left alone for that version.
var errNewerEntry = errors.New("outbox entry of a newer version")

type corruptError struct{ err error }

func (e *corruptError) Error() string { return e.err.Error() }
func (e *corruptError) Unwrap() error { return e.err }

// List returns the waiting entries, oldest first. On the way it finishes
// completions a crash interrupted, removes stale temporary files, and
// quarantines unreadable entry files (and files older versions moved
// aside): each is moved to quarantine/ with a .reason file, its secret is
// removed from the store, and it comes back as a Problem this once.
func (o *Outbox) List(ctx context.Context) ([]Entry, []Problem, error) {
	des, err := os.ReadDir(o.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var entries []Entry
	var problems []Problem
	for _, de := range des {
		name := de.Name()
		switch {
		case strings.HasPrefix(name, tmpPrefix):
			if info, err := de.Info(); err == nil && o.now().Sub(info.ModTime()) > staleTmp {
				os.Remove(filepath.Join(o.dir, name))
			}
		case strings.Contains(name, corruptMarker):
			id, _, _ := strings.Cut(name, ".")
			p, err := o.quarantine(ctx, name, id, errors.New("moved aside earlier as unreadable"))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, nil, err
			}
			if err == nil {
				problems = append(problems, p)
			}
		case strings.HasSuffix(name, doneSuffix):
			id := strings.TrimSuffix(name, doneSuffix)
			if uuidRE.MatchString(id) {
				if err := o.finish(ctx, id); err != nil {
					return nil, nil, err
				}
			}
		case strings.HasSuffix(name, entrySuffix):
			id := strings.TrimSuffix(name, entrySuffix)
			var e Entry
			var rerr error
			if !uuidRE.MatchString(id) {
				rerr = errors.New("the file name is not an entry id")
			} else {
				e, rerr = o.read(id)
			}
			var ce *corruptError
			switch {
			case rerr == nil:
				entries = append(entries, e)
			case errors.Is(rerr, fs.ErrNotExist), errors.Is(rerr, errNewerEntry):
				// completed by another process meanwhile, or not ours to read
			case errors.As(rerr, &ce) || !uuidRE.MatchString(id):
				p, err := o.quarantine(ctx, name, id, rerr)
				if errors.Is(err, fs.ErrNotExist) {
					continue // another process quarantined it first
				}
				if err != nil {
					return nil, nil, err
				}
				problems = append(problems, p)
			default:
				return nil, nil, rerr
			}
		}
	}
	sort.Slice(entries, func(i, j int) bool {
		if !entries[i].CreatedAt.Equal(entries[j].CreatedAt) {
			return entries[i].CreatedAt.Before(entries[j].CreatedAt)
		}
		return entries[i].ID < entries[j].ID
	})
	sort.Slice(problems, func(i, j int) bool { return problems[i].File < problems[j].File })
	return entries, problems, nil
}

// quarantine moves an unreadable file into quarantine/ with a .reason file
// beside it, and removes the secret of entry id (if id is one): an entry
// that cannot be read can never be sent, and its secret must not stay in
// the keyring for ever.
func (o *Outbox) quarantine(ctx context.Context, name, id string, cause error) (Problem, error) {
	qdir := filepath.Join(o.dir, quarantineDir)
	if err := os.MkdirAll(qdir, 0o700); err != nil {
		return Problem{}, err
	}
	from := filepath.Join(o.dir, name)
	to := filepath.Join(qdir, name+"."+o.now().UTC().Format("20060102T150405.000000000Z"))
	if err := renameDurable(from, to); err != nil {
		return Problem{}, err
	}
	secretNote := "it named no outbox entry, so no secret was removed"
	if uuidRE.MatchString(id) {
		secretNote = "its secret (" + SecretKey(id) + ") was removed from the keyring"
		if err := o.store.Delete(context.WithoutCancel(ctx), SecretKey(id)); err != nil && !errors.Is(err, secrets.ErrNotFound) {
			secretNote = "its secret (" + SecretKey(id) + ") could not be removed from the keyring: " + err.Error()
		}
	}
	reason := fmt.Sprintf("%s\nwas %s\nquarantined %s because it could not be read: %v\n%s\n",
		filepath.Base(to), from, o.now().UTC().Format(time.RFC3339), cause, secretNote)
	_ = writeFileAtomic(to+reasonSuffix, []byte(reason)) // best effort: the disk may be full
	return Problem{File: to, Original: from, Err: cause}, nil
}

// Quarantined lists the files in quarantine/ (without their .reason
// files).
func (o *Outbox) Quarantined() ([]string, error) {
	des, err := os.ReadDir(filepath.Join(o.dir, quarantineDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	var out []string
	for _, de := range des {
		if !strings.HasSuffix(de.Name(), reasonSuffix) && !strings.HasPrefix(de.Name(), tmpPrefix) {
			out = append(out, filepath.Join(o.dir, quarantineDir, de.Name()))
		}
	}
	return out, err
}
