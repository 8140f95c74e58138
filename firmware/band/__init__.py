"""The spasmwatch band application (MicroPython). Hardware is injected: see band.app.Hardware."""
