"""Runner modules of the media mission kinds, named in agents.kinds.RUNNERS."""
