// shared front-end code
