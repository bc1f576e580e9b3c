#!/usr/bin/env bash
# The GPU path's tests (`wgpu::` in both crates' tests/it): lorae built with --features wgpu, run
# on whatever adapter wgpu finds; on a machine without a GPU that is Mesa's lavapipe (a CPU
# implementation of Vulkan 1.3), installed here with apt-get when the Vulkan loader or a driver
# is missing. Its own persistent target directory keeps the wgpu build warm (a cold one takes
# ~15 min on 2 cores). If nothing can be installed, the tests are skipped, loudly (under
# CI=true they fail).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${LORAE_WGPU_TARGET_DIR:-$HOME/.cache/lorae-target-wgpu}"
# Mesa's window-system code wants a runtime directory (it only complains without one).
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
has_vulkan() {
  ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' > /dev/null && ls /usr/share/vulkan/icd.d/*.json > /dev/null 2>&1
}
if ! has_vulkan; then
  echo "test-wgpu: no Vulkan loader or driver; installing Mesa's lavapipe (mesa-vulkan-drivers libvulkan1)" >&2
  if ! { apt-get install -y mesa-vulkan-drivers libvulkan1 > /dev/null || { apt-get update > /dev/null && apt-get install -y mesa-vulkan-drivers libvulkan1 > /dev/null; }; } || ! has_vulkan; then
    echo "**************************************************************************************" >&2
    echo "test-wgpu: SKIPPED: no Vulkan driver, and apt-get could not install mesa-vulkan-drivers" >&2
    echo "libvulkan1; the GPU path is untested on this machine." >&2
    echo "**************************************************************************************" >&2
    # CI promises every test ran: there the missing part is a failure, not a skip.
    if [ "${CI:-}" = true ]; then exit 1; fi
    exit 0
  fi
fi
cargo test --release -p lorae -p lorae-cli --features lorae/wgpu,lorae-cli/wgpu --test it -- --include-ignored wgpu::
