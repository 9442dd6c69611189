{
  "targets": [
    {
      "target_name": "ebpf_studio",
      # core/: plain C++ over libbpf, a file per concern. js/: N-API only (binding and async workers).
      "sources": [
        "src/core/attach.cc",
        "src/core/btf_check.cc",
        "src/core/btf_resolve.cc",
        "src/core/btf_structs.cc",
        "src/core/core_btf.cc",
        "src/core/elf_check.cc",
        "src/core/errors.cc",
        "src/core/events.cc",
        "src/core/feature_probes.cc",
        "src/core/insns.cc",
        "src/core/libbpf_log.cc",
        "src/core/listing.cc",
        "src/core/load.cc",
        "src/core/map_batch.cc",
        "src/core/maps.cc",
        "src/core/names.cc",
        "src/core/object.cc",
        "src/core/object_file.cc",
        "src/core/pins.cc",
        "src/core/ring_reader.cc",
        "src/core/spec.cc",
        "src/core/stop_signal.cc",
        "src/core/tc_netlink.cc",
        "src/core/test_run.cc",
        "src/core/trace_pipe_reader.cc",
        "src/js/convert.cc",
        "src/js/events_worker.cc",
        "src/js/feature_probes.cc",
        "src/js/insns.cc",
        "src/js/kernel.cc",
        "src/js/load_worker.cc",
        "src/js/map_batch_worker.cc",
        "src/js/map_edit.cc",
        "src/js/map_wrap.cc",
        "src/js/module.cc",
        "src/js/object_wrap.cc",
        "src/js/spec.cc",
        "src/js/spec_workers.cc",
        "src/js/trace_pipe_worker.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node ../scripts/libbpf.js include)"
      ],
      # Entry points convert every C++ exception into a typed JS error themselves (js/binding.h guarded);
      # NODE_ADDON_API_CPP_EXCEPTIONS_ALL is the net under that net, so none can reach std::terminate.
      "defines": [ "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL", "NAPI_VERSION=8" ],
      "cflags!": [ "-fno-exceptions" ],
      "cflags_cc!": [ "-fno-exceptions", "-std=gnu++14", "-std=gnu++17" ],
      "cflags_cc": [ "-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers" ],
      "libraries": [ "<!@(node ../scripts/libbpf.js libs)", "-lelf", "-lz" ],
      # Dynamic libbpf (Debian's libbpf.a is not PIC); a packaged copy finds libbpf.so.1 next to itself.
      # scripts/libbpf.js names the libbpf built against: setup.sh's 1.4.6 in native/deps/, else the system's.
      "ldflags": [ "-Wl,-rpath,'$$ORIGIN'", "<!@(node ../scripts/libbpf.js ldflags)", "-Wl,--enable-new-dtags" ]
    }
  ]
}
