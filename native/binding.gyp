{
  "targets": [
    {
      "target_name": "ebpf_studio",
      "sources": [
        "src/bpf_core.cc",
        "src/btf_resolve.cc",
        "src/binding.cc",
        "src/load_worker.cc",
        "src/events_worker.cc",
        "src/btf_structs.cc",
        "src/map_batch_worker.cc",
        "src/insns.cc",
        "src/feature_probes.cc",
        "src/map_edit.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [ "NAPI_CPP_EXCEPTIONS", "NAPI_VERSION=8" ],
      "cflags!": [ "-fno-exceptions" ],
      "cflags_cc!": [ "-fno-exceptions", "-std=gnu++14", "-std=gnu++17" ],
      "cflags_cc": [ "-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers" ],
      "libraries": [ "-lbpf", "-lelf", "-lz" ],
      # Dynamic libbpf (Debian's libbpf.a is not PIC); a packaged copy finds libbpf.so.1 next to itself.
      "ldflags": [ "-Wl,-rpath,'$$ORIGIN'", "-Wl,--enable-new-dtags" ]
    }
  ]
}
