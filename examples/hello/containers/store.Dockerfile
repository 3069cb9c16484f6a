# The store as a container: compiled in the local base image (containers/base-image.sh makes it;
# nothing is pulled), its data in the named volume mounted at /data.
FROM hello-base:bookworm
COPY src/store.cpp /src/store.cpp
RUN c++ -O1 -o /usr/local/bin/store /src/store.cpp
CMD ["/usr/local/bin/store", "--bind", "0.0.0.0", "--data", "/data"]
