# Yoloplane build, run and test entry points.
#
# ONNX Runtime is not vendored: `make ort` downloads the CPU build that ships
# inside the npm package onnxruntime-node (with `npm pack`, which runs no
# install scripts), checks the package's and the library's SHA-256, and
# extracts the library under .cache/. The binary finds it there by itself.

GO        ?= go
ORT_VERSION      := 1.30.0
ORT_TGZ_SHA256   := 6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75
ORT_LIB_SHA256   := ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23
ORT_DIR          := .cache/onnxruntime-$(ORT_VERSION)
ORT_LIB          := $(ORT_DIR)/libonnxruntime.so.1
DEMO_MODEL       := ../shared/models/yolov8n_int8_640.onnx
DATA_DIR         ?= ./data
LISTEN           ?= 127.0.0.1:8080

# Tests that take minutes on two cores get this much time in total.
TEST_TIMEOUT     ?= 40m

export CGO_ENABLED := 1
export YOLOPLANE_ORT_LIB ?= $(CURDIR)/$(ORT_LIB)

.PHONY: all build run test test-short bench ort vet clean

all: build

ort: $(ORT_LIB)

$(ORT_LIB):
	@mkdir -p $(ORT_DIR)/pack
	@echo "fetching onnxruntime-node@$(ORT_VERSION) with npm pack (no install scripts run)"
	cd $(ORT_DIR)/pack && npm pack --silent onnxruntime-node@$(ORT_VERSION) >/dev/null
	echo "$(ORT_TGZ_SHA256)  $(ORT_DIR)/pack/onnxruntime-node-$(ORT_VERSION).tgz" | sha256sum -c --quiet -
	tar -xzf $(ORT_DIR)/pack/onnxruntime-node-$(ORT_VERSION).tgz -C $(ORT_DIR)/pack \
		package/bin/napi-v6/linux/x64/libonnxruntime.so.1
	echo "$(ORT_LIB_SHA256)  $(ORT_DIR)/pack/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" | sha256sum -c --quiet -
	mv $(ORT_DIR)/pack/package/bin/napi-v6/linux/x64/libonnxruntime.so.1 $(ORT_LIB)
	rm -rf $(ORT_DIR)/pack

build: $(ORT_LIB)
	@echo '#include <jpeglib.h>' | $${CC:-gcc} -E -x c - >/dev/null 2>&1 || { \
		echo "libjpeg headers not found: install them, e.g. apt-get install libjpeg62-turbo-dev"; exit 1; }
	$(GO) build -o bin/yoloplane ./cmd/yoloplane

run: build
	@if [ -f "$(DEMO_MODEL)" ]; then \
		./bin/yoloplane serve --listen $(LISTEN) --data $(DATA_DIR) --model $(DEMO_MODEL); \
	else \
		echo "demo model $(DEMO_MODEL) not found: starting without a model."; \
		echo "register one with: ./bin/yoloplane serve --model path/to/model.onnx"; \
		./bin/yoloplane serve --listen $(LISTEN) --data $(DATA_DIR); \
	fi

vet:
	CGO_ENABLED=0 $(GO) vet ./...
	$(GO) vet ./...

test: build vet
	$(GO) test -timeout $(TEST_TIMEOUT) ./...
	$(GO) test -race -timeout $(TEST_TIMEOUT) -run 'Concurrent|Race' ./dataplane/...
	$(GO) test -race -timeout $(TEST_TIMEOUT) ./controlplane/raftnode ./controlplane/blob ./controlplane/cluster
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
