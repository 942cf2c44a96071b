"""magnetscreen.models"""
