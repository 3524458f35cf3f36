# pictures.mk: the tutorial's pictures, included by the top-level Makefile.
#
#   make pictures        (re)draw every pictures/NAME.svg from its source
#   make pictures-check  draw them into build/pictures/ and compare; fail
#                        when one differs, is invalid or does not fit a page
#   make picture-deps    install the tools they need
#
# tools/pictures.sh does the work; its header says how the SVGs are kept
# byte for byte reproducible and what the check checks. make tutorial
# draws them all, and make tutorial-check, which CI runs, checks them all,
# including those no @picture line shows yet.

# graphviz draws, xmllint validates against the SVG DTD that w3c-sgml-lib
# carries, and fontconfig with DejaVu pins the font the text is measured in.
PICTURE_PKGS := graphviz libxml2-utils w3c-sgml-lib fontconfig \
	fonts-dejavu-core

.PHONY: picture-deps pictures pictures-check

picture-deps:
	@tools/deps.sh $(PICTURE_PKGS)

pictures: picture-deps
	@tools/pictures.sh draw

pictures-check: picture-deps
	@tools/pictures.sh check

tutorial: pictures
tutorial-check: pictures-check
