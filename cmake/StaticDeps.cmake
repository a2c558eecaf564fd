# Links the imported third-party libraries (gRPC, protobuf, absl, yaml-cpp, Boost) from their
# static archives where Debian ships one. A `corral` call then starts in ~3 ms instead of
# ~17 ms spent loading sixty shared libraries, which bounds how fast a shell loop can submit.
# Call after every find_package; libraries without an archive stay shared.
function(corral_prefer_static_imports)
  get_property(targets DIRECTORY ${CMAKE_SOURCE_DIR} PROPERTY IMPORTED_TARGETS)
  foreach(t IN LISTS targets)
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
        set_property(TARGET ${t} PROPERTY TYPE_OVERRIDE STATIC)
      endif()
    endforeach()
  endforeach()
endfunction()
