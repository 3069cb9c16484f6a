# The worker as a container: its bash script in the local base image (which has bash).
FROM hello-base:bookworm
COPY scripts/worker.sh /app/worker.sh
CMD ["bash", "/app/worker.sh"]
