# Infino Mailbox — developer entry points.
#   make run    open the window in demo mode: in-process IMAP/SMTP, Infino and Microsoft sandboxes, no network
#               (make run RUN_ARGS= opens it against the real world)
#   make test   everything CI checks: go.mod tidy, format, vet, the core's independence from Fyne and
#               from the test fakes, tests with -race
#   make bench-latency   verify's round trips on a slow link (internal/tools/latencybench)
# Both first install what the machine lacks when they can (check-deps, .ci/deps.sh).

# The Go toolchain is go.mod's toolchain line, the one place it is named (.ci/lib.sh reads it the
# same way). Exported because some Go installations ship GOTOOLCHAIN=local, which refuses a go.mod
# newer than themselves; the go command fetches the toolchain from the module proxy on first use.
export GOTOOLCHAIN := $(or $(shell sed -n 's/^toolchain[[:space:]]*\(go[^[:space:]]*\).*/\1/p' go.mod),auto)

GO      ?= go
BIN     ?= infino-mailbox
# The same version string as make dist and the macOS package (.ci/version.sh).
ifndef VERSION
VERSION := $(shell bash .ci/version.sh)
endif
LDFLAGS  = -X infino.legal/mailbox/mailcfg.Version=$(or $(VERSION),$(error .ci/version.sh gave no version))
UNAME   := $(shell uname -s 2>/dev/null || echo Windows)

.PHONY: run build test check-deps tidy-check fmt-check vet core-check peers-up peers-down fuzz bench bench-latency screenshots dist clean

RUN_ARGS ?= --demo
run: check-deps
	$(GO) run -ldflags '$(LDFLAGS)' . $(RUN_ARGS)

build: check-deps
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) .

# On Linux the tests run on a private D-Bus with a real, unlocked GNOME Keyring
# (the Secret Service test) whenever its tools are installed (check-deps
# installs them when it can); in CI they must be.
test: DEPS = build test
test: check-deps tidy-check fmt-check vet core-check peers-up
	@ss=""; if [ "$(UNAME)" = Linux ] && { [ -n "$$CI" ] || { command -v dbus-run-session && command -v gnome-keyring-daemon && command -v secret-tool; } >/dev/null 2>&1; }; then \
	  ss="bash testdata/keyring/run-with-secret-service.sh"; fi; \
	echo "$${ss:+$$ss }$(GO) test -race -count=1 ./..."; \
	$$ss $(GO) test -race -count=1 ./...
	@# The screenshot harness is compiled only with its tag: vet it and run
	@# its checks (every screen in Polish has no English, every screen fits).
	$(GO) test -race -count=1 -tags screenshots -run 'TestNoEnglish|TestScreensFit|TestScreenshot' ./ui/

# What the machine needs for a target (DEPS: build, test, screenshots, dist):
# a C compiler and, on Linux, the X11/GL/Wayland headers for Fyne, and so on.
# On Debian/Ubuntu .ci/deps.sh installs what is missing when it runs as root
# or sudo works without a password; otherwise it prints the apt-get line.
DEPS = build
check-deps:
	@bash .ci/deps.sh $(DEPS)

tidy-check:
	@out=$$($(GO) mod tidy -diff 2>&1) || { echo "go.mod/go.sum are not tidy (run go mod tidy):"; echo "$$out"; exit 1; }

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go') 2>&1) || { echo "$$out"; exit 1; }; \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	$(GO) vet -tags screenshots ./ui/

# The core (mailcfg, oauthloopback), the CLI face, the manual form's rules
# (ui/form: plain Go, table-tested without a window) and every package under
# internal/ but the bare-window tool (internal/tools/hello, the start-up
# benchmark's baseline, by design) must never depend on Fyne, directly or not. A new
# package under internal/ is checked without being listed here.
CORE_PKGS     := ./mailcfg/... ./oauthloopback/... ./ui/cli/... ./ui/form/...
FYNE_INTERNAL := ./internal/tools/hello/...
# Test fakes that the shipped binary must not contain.
TEST_FAKES    := infino.legal/mailbox/internal/microsofttest infino.legal/mailbox/internal/googletest infino.legal/mailbox/internal/discovertest
core-check:
	@fyne=$$($(GO) list $(FYNE_INTERNAL) 2>/dev/null); \
	internal=$$($(GO) list ./internal/... | grep -vxF "$${fyne:-(none)}") || exit 1; \
	deps=$$($(GO) list -deps $(CORE_PKGS) $$internal) || exit 1; \
	bad=$$(echo "$$deps" | grep '^fyne.io/' || true); \
	if [ -n "$$bad" ]; then echo "core-check: the core, ui/cli, ui/form or internal/ depend on Fyne:"; echo "$$bad"; exit 1; fi; \
	bin=$$($(GO) list -deps .) || exit 1; \
	fakes=$$(for f in $(TEST_FAKES); do echo "$$bin" | grep -xF "$$f"; done || true); \
	if [ -n "$$fakes" ]; then echo "core-check: the shipped binary imports test fakes:"; echo "$$fakes"; exit 1; fi; \
	echo "core-check: mailcfg, oauthloopback, ui/cli, ui/form and internal/ (but $(FYNE_INTERNAL)) import no fyne.io package;" \
	  "the binary imports none of $(notdir $(TEST_FAKES))"

# Real Dovecot + Postfix, and Cyrus + Exim (the app against other servers too),
# on loopback for the integration tests. Needs root on Debian/Ubuntu (it
# installs the packages if missing); elsewhere the tests that need them skip
# locally (and fail in CI).
# And a certified OpenID provider (oidc-provider, testdata/oidcpeer) as
# Infino's authorization server: needs Node.js and npm (check-deps installs
# them for test; up.sh runs npm ci once and keeps node_modules in its run dir).
peers-up:
	@if [ "$(UNAME)" = Linux ] && [ "$$(id -u)" = 0 ]; then \
	  bash testdata/mailpeers/up.sh && bash testdata/otherpeers/up.sh; \
	elif [ -n "$$CI" ]; then echo "peers-up: CI needs Linux and root to start the mail peers"; exit 1; \
	else echo "peers-up: skipped (needs Linux and root); integration tests will skip"; fi
	@if [ "$(UNAME)" = Linux ] && { [ "$$(id -u)" = 0 ] || command -v node >/dev/null; }; then \
	  bash testdata/oidcpeer/up.sh; \
	elif [ -n "$$CI" ]; then echo "peers-up: CI needs Linux and Node.js (or root to install it) for the OpenID provider"; exit 1; \
	else echo "peers-up: OpenID provider skipped (needs Linux and Node.js); its tests will skip"; fi

peers-down:
	bash testdata/mailpeers/down.sh
	bash testdata/oidcpeer/down.sh
	bash testdata/otherpeers/down.sh

FUZZTIME ?= 30s
fuzz:
	@for p in $$($(GO) list ./mailcfg/... ./oauthloopback/... ./ui/cli/...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$p | grep '^Fuzz'); do \
	    echo "== $$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s $$p || exit 1; \
	  done; done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./mailcfg/... ./oauthloopback/...

# verify on a slow link: the real binary against the real peers through
# proxies adding LATENCY_RTT, in multiples of it, for every protocol × security
# pair and the failure paths. Compare builds: LATENCY_ARGS='-bin old=/tmp/old -bin new=/tmp/new'.
LATENCY_RTT  ?= 100ms
LATENCY_ARGS ?=
bench-latency: check-deps peers-up
	$(GO) run ./internal/tools/latencybench -rtt $(LATENCY_RTT) $(LATENCY_ARGS)

screenshots: DEPS = build screenshots
screenshots: check-deps
	bash .ci/screenshots.sh

# --- dist: packages for firm IT (docs/deployment.md, section 6) ---------------
#   make dist        on Debian: Windows GUI + console exe, MSI, Linux tarball in dist/
#                    (signed when SIGN_CERT+SIGN_KEY or SIGN_PKCS12 are set)
#   make dist-check  prove the Windows artefacts: msiinfo, and under Wine the exes,
#                    a silent msiexec writing the policy, policy show reading it
#   make dist-macos  on a Mac: .app, .pkg, codesign, notarytool (.ci/macos/package.sh)
.PHONY: dist-check dist-macos
dist: DEPS = build dist
dist: check-deps
	bash .ci/dist.sh

dist-check: DEPS = dist
dist-check: check-deps
	bash .ci/wine/check.sh

dist-macos:
	bash .ci/macos/package.sh

clean:
	rm -rf $(BIN) $(BIN).exe dist
