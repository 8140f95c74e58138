"""spasmwatch: monitor for infantile (epileptic) spasms.

A screening and logging aid, not a diagnosis. See README.md.
"""

__version__ = "0.1.0"
