"""magnetscreen.screening"""
