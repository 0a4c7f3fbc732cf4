# Infino Mailbox — developer entry points.
#   make run    open the window in demo mode: in-process IMAP/SMTP, Infino and Microsoft sandboxes, no network
#               (make run RUN_ARGS= opens it against the real world)
#   make test   everything CI checks: format, vet, the core's independence from Fyne, tests with -race
# The Go toolchain pinned here is fetched by the go command from the module proxy on first use.
export GOTOOLCHAIN := go1.27.3

GO      ?= go
BIN     ?= infino-mailbox
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)
LDFLAGS := -X infino.legal/mailbox/mailcfg.Version=$(VERSION)
UNAME   := $(shell uname -s 2>/dev/null || echo Windows)

.PHONY: run build test check-deps fmt-check vet core-check peers-up peers-down fuzz bench screenshots dist clean

RUN_ARGS ?= --demo
run: check-deps
	$(GO) run -ldflags '$(LDFLAGS)' . $(RUN_ARGS)

build: check-deps
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) .

# On Linux the tests run on a private D-Bus with a real, unlocked GNOME Keyring
# (the Secret Service test), whenever its tools are installed; CI installs them.
ifeq ($(UNAME),Linux)
SECRET_SERVICE := $(shell if [ -n "$$CI" ] || { command -v dbus-run-session && command -v gnome-keyring-daemon && command -v secret-tool; } >/dev/null 2>&1; then echo "bash testdata/keyring/run-with-secret-service.sh"; fi)
endif

test: check-deps fmt-check vet core-check peers-up
	$(SECRET_SERVICE) $(GO) test -race -count=1 ./...

# Fyne needs a C compiler and, on Linux, the X11/GL/Wayland headers.
check-deps:
	@command -v $(firstword $(CC) gcc) >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || { \
	  echo "A C compiler is needed for Fyne (cgo)."; \
	  echo "  Debian/Ubuntu: sudo apt-get install -y gcc pkg-config"; \
	  echo "  macOS:         xcode-select --install"; \
	  echo "  Windows:       install MSYS2 and its mingw-w64 gcc (see README)"; exit 1; }
ifeq ($(UNAME),Linux)
	@missing=""; for h in GL/gl.h X11/Xlib.h X11/Xcursor/Xcursor.h X11/extensions/Xrandr.h X11/extensions/Xinerama.h \
	  X11/extensions/XInput2.h X11/extensions/xf86vmode.h wayland-client-core.h xkbcommon/xkbcommon.h; do \
	  [ -f /usr/include/$$h ] || missing="$$missing $$h"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Missing headers for Fyne:$$missing"; \
	  echo "Install them with:"; \
	  echo "  sudo apt-get install -y gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev libwayland-dev libxkbcommon-dev wayland-protocols"; \
	  exit 1; fi
endif

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go') 2>&1) || { echo "$$out"; exit 1; }; \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# The core (mailcfg, oauthloopback) and the CLI face must never depend on Fyne, directly or not.
core-check:
	@deps=$$($(GO) list -deps ./mailcfg/... ./oauthloopback/... ./ui/cli/...) || exit 1; \
	bad=$$(echo "$$deps" | grep '^fyne.io/' || true); \
	if [ -n "$$bad" ]; then echo "mailcfg/oauthloopback/ui/cli depend on Fyne:"; echo "$$bad"; exit 1; fi; \
	echo "core-check: mailcfg, oauthloopback and ui/cli import no fyne.io package"

# Real Dovecot + Postfix on loopback for the integration tests. Needs root on
# Debian/Ubuntu (it installs the packages if missing); elsewhere the tests that
# need them skip locally (and fail in CI).
peers-up:
	@if [ "$(UNAME)" = Linux ] && [ "$$(id -u)" = 0 ]; then \
	  bash testdata/mailpeers/up.sh; \
	elif [ -n "$$CI" ]; then echo "peers-up: CI needs Linux and root to start the mail peers"; exit 1; \
	else echo "peers-up: skipped (needs Linux and root); integration tests will skip"; fi

peers-down:
	bash testdata/mailpeers/down.sh

FUZZTIME ?= 30s
fuzz:
	@for p in $$($(GO) list ./mailcfg/... ./oauthloopback/... ./ui/cli/...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$p | grep '^Fuzz'); do \
	    echo "== $$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s $$p || exit 1; \
	  done; done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./mailcfg/... ./oauthloopback/...

screenshots:
	bash .ci/screenshots.sh

# --- dist: packages for firm IT (docs/deployment.md, section 6) ---------------
#   make dist        on Debian: Windows GUI + console exe, MSI, Linux tarball in dist/
#                    (signed when SIGN_CERT+SIGN_KEY or SIGN_PKCS12 are set)
#   make dist-check  prove the Windows artefacts: msiinfo, and under Wine the exes,
#                    a silent msiexec writing the policy, policy show reading it
#   make dist-macos  on a Mac: .app, .pkg, codesign, notarytool (.ci/macos/package.sh)
.PHONY: dist-check dist-macos
dist:
	bash .ci/dist.sh

dist-check:
	bash .ci/wine/check.sh

dist-macos:
	bash .ci/macos/package.sh

clean:
	rm -rf $(BIN) $(BIN).exe dist
