"""magnetscreen.datasets"""
