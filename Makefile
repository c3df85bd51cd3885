# outcomes — build, test, report. Plain GNU make; see README.md.
#   make report     install missing packages, build, run on the shipped sample
#   make check      cppcheck, then build with sanitizers and run every test (ends with
#                   "N passed, M failed")
#   make install PREFIX=/usr/local   /  make uninstall
#   make fuzz       build and run the libFuzzer target over ingest (clang)
#   make bench      the benchmark (see README)

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
DATA      ?= samples/visits.csv
CLAIMS    ?= samples/claims.tsv
MONTH     ?=
OUT       ?= reports/sample

CC        ?= cc
WARN      := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes \
             -Wmissing-prototypes -Wvla -Werror
GSL_CFLAGS = $(shell pkg-config --cflags gsl 2>/dev/null)
GSL_LIBS   = $(shell pkg-config --libs gsl 2>/dev/null || echo -lgsl -lgslcblas -lm)
CPPFLAGS  += -pthread -D_POSIX_C_SOURCE=200809L -DOUTCOMES_VERSION='"$(VERSION)"'
LIBS       = $(GSL_LIBS) -lcsv -lm -pthread
SAN       := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# ThreadSanitizer for the tests that run ingest on several threads (the reading pipeline and
# the per-patient thread); it cannot be combined with AddressSanitizer, hence a third build.
TSAN      := -fsanitize=thread

SRC       := $(sort $(wildcard pipeline/*.c))
LIBSRC    := $(filter-out pipeline/main.c,$(SRC))
HDR       := $(wildcard pipeline/*.h)
TESTSRC   := $(sort $(wildcard tests/test_*.c))

REL_OBJ   := $(LIBSRC:pipeline/%.c=build/rel/%.o)
SAN_OBJ   := $(LIBSRC:pipeline/%.c=build/san/%.o)
TESTBIN   := $(TESTSRC:tests/%.c=build/san/%) build/san/test_csvread_swar
TSAN_OBJ  := $(LIBSRC:pipeline/%.c=build/tsan/%.o)
TSANBIN   := build/tsan/test_stream build/tsan/test_ingest build/tsan/test_bigarr build/tsan/test_plan
# Kept between runs (make would delete them as intermediates of the pattern rule).
.SECONDARY: $(TSAN_OBJ)

.PHONY: all deps deps-test report check test install uninstall clean fuzz bench lint
all: build/outcomes

deps:
	@scripts/install-deps
deps-test:
	@scripts/install-deps --test

build/rel/%.o: pipeline/%.c $(HDR) | build/rel
	$(CC) $(CPPFLAGS) $(WARN) -O2 -g $(GSL_CFLAGS) -c -o $@ $<
build/san/%.o: pipeline/%.c $(HDR) | build/san
	$(CC) $(CPPFLAGS) $(WARN) -O1 -g $(SAN) $(GSL_CFLAGS) -c -o $@ $<
build/tsan/%.o: pipeline/%.c $(HDR) | build/tsan
	$(CC) $(CPPFLAGS) $(WARN) -O1 -g $(TSAN) $(GSL_CFLAGS) -c -o $@ $<

build/outcomes: build/rel/main.o $(REL_OBJ)
	$(CC) -o $@ $^ $(LIBS)
build/san/outcomes: build/san/main.o $(SAN_OBJ)
	$(CC) $(SAN) -o $@ $^ $(LIBS)
# The replay test compiles the fuzz target in.
build/san/test_fuzz_replay: tests/fuzz/fuzz_ingest.c
build/san/test_%: tests/test_%.c tests/harness.h $(SAN_OBJ) $(HDR)
	$(CC) $(CPPFLAGS) $(WARN) -O1 -g $(SAN) $(GSL_CFLAGS) -Ipipeline -o $@ $< $(SAN_OBJ) $(LIBS)
# csvread's fast path without SSE2 (its portable 64-bit-word scan), tested here as well:
# test_ingest again, linked with a csvread built that way.
SWAR_OBJ  := build/san/csvread_swar.o $(filter-out build/san/csvread.o,$(SAN_OBJ))
build/san/csvread_swar.o: pipeline/csvread.c $(HDR) | build/san
	$(CC) $(CPPFLAGS) $(WARN) -O1 -g $(SAN) -DCSVREAD_NO_SIMD -c -o $@ $<
build/san/test_csvread_swar: tests/test_ingest.c tests/harness.h $(SWAR_OBJ) $(HDR)
	$(CC) $(CPPFLAGS) $(WARN) -O1 -g $(SAN) $(GSL_CFLAGS) -Ipipeline -o $@ $< $(SWAR_OBJ) $(LIBS)
build/tsan/test_%: tests/test_%.c tests/harness.h $(TSAN_OBJ) $(HDR)
	$(CC) $(CPPFLAGS) $(WARN) -O1 -g $(TSAN) $(GSL_CFLAGS) -Ipipeline -o $@ $< $(TSAN_OBJ) $(LIBS)

build/rel build/san build/tsan:
	@mkdir -p $@

# The report on the shipped sample (or DATA=... MONTH=...).
report: deps build/outcomes
	build/outcomes run --claims $(CLAIMS) $(if $(MONTH),--month $(MONTH)) --out $(if $(MONTH),reports/$(MONTH),$(OUT)) $(DATA)

# lint first: a static finding fails the check as a failing test would (CI runs check).
check: deps-test lint build/outcomes build/san/outcomes $(TESTBIN) $(TSANBIN)
	@tests/run

test: check

install: build/outcomes
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/outcomes
	install -m 755 build/outcomes $(DESTDIR)$(PREFIX)/bin/outcomes
	install -m 755 scripts/nightly $(DESTDIR)$(PREFIX)/bin/outcomes-nightly
	install -m 644 docs/outcomes.1 $(DESTDIR)$(PREFIX)/share/man/man1/outcomes.1
	install -m 644 samples/claims.tsv samples/benchmarks.tsv $(DESTDIR)$(PREFIX)/share/outcomes/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/outcomes $(DESTDIR)$(PREFIX)/bin/outcomes-nightly \
	    $(DESTDIR)$(PREFIX)/share/man/man1/outcomes.1 \
	    $(DESTDIR)$(PREFIX)/share/outcomes/claims.tsv $(DESTDIR)$(PREFIX)/share/outcomes/benchmarks.tsv
	-rmdir $(DESTDIR)$(PREFIX)/share/outcomes 2>/dev/null

fuzz:
	scripts/fuzz $(FUZZ_SECONDS)

bench: build/outcomes
	scripts/bench $(BENCH)

lint: | deps-test
	cppcheck --quiet --inline-suppr --enable=warning,portability --error-exitcode=1 pipeline

clean:
	rm -rf build
