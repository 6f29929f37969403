# QuickJS-ng's build fetches SIMDe from the internet unless told where it already is.
# Debian's libsimde-dev installs the headers under /usr/include/simde.
if(EXISTS "/usr/include/simde")
  set(FETCHCONTENT_SOURCE_DIR_SIMDE "/usr/include" CACHE PATH "")
endif()
