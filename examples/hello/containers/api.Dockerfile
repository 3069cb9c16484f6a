# The api as a container: compiled in the local base image; it serves static/ from its working
# directory, where devloop's sync rule copies saved files (target /app/static).
FROM hello-base:bookworm
COPY src/api.cpp /src/api.cpp
RUN c++ -O1 -o /usr/local/bin/api /src/api.cpp
WORKDIR /app
COPY static /app/static
COPY config /app/config
ENV BIND_ADDR=0.0.0.0
CMD ["/usr/local/bin/api"]
