"""Markup that runs script in a browser unless an HTML cleaner removes it: each vector sets the page's title to
:data:`MARKER` when it loads or when its "CLICKME" text is clicked.

Most exploit a disagreement between a browser's HTML parser and Python's (comments a browser ends earlier,
elements whose content a browser reads as text, CSS that SVG reads as markup); others hide a ``javascript:``
URL from a naive check.
"""

MARKER = "PWNED"
_RUN = f"void(document.title='{MARKER}')"  # void: a javascript: link that returns text replaces the page

VECTORS = {
    "noscript-attribute": f'<noscript><p title="</noscript><img src=x onerror={_RUN}>">CLICKME</p></noscript>',
    "xmp-attribute": f'<xmp><p title="</xmp><img src=x onerror={_RUN}>">CLICKME</p></xmp>',
    "noembed-attribute": f'<noembed><p title="</noembed><img src=x onerror={_RUN}>">CLICKME</p></noembed>',
    "textarea-attribute": f'<textarea><p title="</textarea><img src=x onerror={_RUN}>">CLICKME</p></textarea>',
    "title-attribute": f'<title><p title="</title><img src=x onerror={_RUN}>">CLICKME</p></title>',
    "style-in-svg": f"<svg><style><img src=x onerror={_RUN}>CLICKME</style></svg>",
    "style-in-mathml": f"<math><style><img src=x onerror={_RUN}>CLICKME</style></math>",
    "empty-comment": f"<!--><img src=x onerror={_RUN}>CLICKME-->",
    "dash-comment": f"<!---><img src=x onerror={_RUN}>CLICKME-->",
    "bang-comment-end": f"<!-- --!><img src=x onerror={_RUN}>CLICKME-->",
    "cdata-in-html": f"<![CDATA[><img src=x onerror={_RUN}>CLICKME]]>",
    "svg-animate-href": f'<svg width="200" height="60"><a><animate attributeName="href" values="javascript:{_RUN}"/>'
                        f'<text x="10" y="30">CLICKME</text></a></svg>',
    "svg-set-href": f'<svg width="200" height="60"><a><set attributeName="href" to="jav&#x61;script:{_RUN}"/>'
                    f'<text x="10" y="30">CLICKME</text></a></svg>',
    "tab-in-scheme": f'<a href="java&#x09;script:{_RUN}">CLICKME</a>',
    "control-before-scheme": f'<a href="&#x01;javascript:{_RUN}">CLICKME</a>',
    "svg-link": f'<svg width="200" height="60"><a href="javascript:{_RUN}"><text x="10" y="30">CLICKME</text></a></svg>',
    "form-action": f'<form action="javascript:{_RUN}"><button>CLICKME</button></form>',
    "event-handler": f'<p>CLICKME</p><img src="data:image/png;base64,AAAA"onerror={_RUN}>',
}


#: SVG images that run script or load another file when opened on their own (a browser runs nothing in an
#: ``<img>``), unless cleaned: each sets the title to :data:`MARKER` on load or once "CLICKME" is clicked.
SVG_VECTORS = {
    "entity-hiding-script": b'''<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY x "&#60;script&#62;void(document.title='PWNED')&#60;/script&#62;">]>
<svg xmlns="http://www.w3.org/2000/svg" width="200" height="60">&x;<rect width="10" height="10"/></svg>''',
    "animated-link": b'''<svg xmlns="http://www.w3.org/2000/svg" width="200" height="60"><a>
<set attributeName="href" to="javascript:void(document.title='PWNED')"/><text x="10" y="30">CLICKME</text></a></svg>''',
}
#: SVG images that load another file: an imported style sheet and a paint from elsewhere.
SVG_REMOTE = (b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import "https://evil.example/a.css";</style>'
              b'<rect width="4" height="4" fill="url(https://evil.example/p.svg#g)" clip-path="url(#keep)"/></svg>')
