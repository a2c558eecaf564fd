# Links the imported third-party libraries (gRPC, protobuf, absl, yaml-cpp, Boost) from their
# static archives where Debian ships one. A `corral` call then starts in ~3 ms instead of
# ~17 ms spent loading sixty shared libraries, which bounds how fast a shell loop can submit.
# Call after every find_package; libraries without an archive stay shared.
function(corral_prefer_static_imports)
  get_property(targets DIRECTORY ${CMAKE_SOURCE_DIR} PROPERTY IMPORTED_TARGETS)
  foreach(t IN LISTS targets)
    # gRPC names re2 by its bare name, which would link the shared library.
    # gRPC's re2::re2 comes from pkg-config as "-lre2", which would link the shared library.
    get_target_property(deps ${t} INTERFACE_LINK_LIBRARIES)
    if(deps AND "-lre2" IN_LIST deps)
      find_library(CORRAL_RE2_ARCHIVE NAMES libre2.a)
      if(CORRAL_RE2_ARCHIVE)
        list(TRANSFORM deps REPLACE "^-lre2$" "${CORRAL_RE2_ARCHIVE}")
        set_target_properties(${t} PROPERTIES INTERFACE_LINK_LIBRARIES "${deps}")
      endif()
    endif()
    get_target_property(type ${t} TYPE)
    if(NOT type STREQUAL "SHARED_LIBRARY" AND NOT type STREQUAL "UNKNOWN_LIBRARY")
      continue()
    endif()
    foreach(prop IMPORTED_LOCATION IMPORTED_LOCATION_RELEASE IMPORTED_LOCATION_NONE
                 IMPORTED_LOCATION_NOCONFIG IMPORTED_LOCATION_RELWITHDEBINFO
                 IMPORTED_LOCATION_DEBUG)
      get_target_property(loc ${t} ${prop})
      if(NOT loc OR NOT loc MATCHES "\\.so(\\.[0-9.]+)?$")
        continue()
      endif()
      string(REGEX REPLACE "\\.so(\\.[0-9.]+)?$" ".a" archive "${loc}")
      if(EXISTS "${archive}")
        set_target_properties(${t} PROPERTIES ${prop} "${archive}" IMPORTED_SONAME "")
      endif()
    endforeach()
  endforeach()
endfunction()
