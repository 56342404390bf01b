# samples/ - what make demo builds from
EXTRA_DIST += samples/demo.sh samples/demo/Demo.vmx

# The README's main-job command: a master, a base, three leaves, checked.
demo: vmdkit
	VMDKIT='$(abs_top_builddir)/vmdkit' DEMO_DIR='$(abs_top_builddir)/demo-output' \
		$(SHELL) '$(abs_top_srcdir)/samples/demo.sh'
.PHONY: demo

clean-local: clean-demo
clean-demo:
	-chmod -R u+w '$(abs_top_builddir)/demo-output' 2>/dev/null
	-rm -rf '$(abs_top_builddir)/demo-output'
.PHONY: clean-demo

# The sample is built by make check (against the tree's headers and
# library) so an API change that breaks it fails the build; tests/install.sh
# builds it again against an installed copy through pkg-config.
check_PROGRAMS += samples/example
samples_example_SOURCES = samples/example.c
samples_example_CFLAGS = $(PROJECT_CFLAGS)
samples_example_LDADD = libvmdkit.la
