"""Reference data: divisions (GB/T 2260), industries, varieties and categories of the Henan market."""
