import { Anchor, Stack, Text, Title } from "@mantine/core";
import { Link } from "react-router-dom";

export function NotFoundPage() {
  return (
    <Stack>
      <Title order={2}>Page not found</Title>
      <Text>
        There is no dashboard page here. <Anchor component={Link} to="/">Go to sessions</Anchor>.
      </Text>
    </Stack>
  );
}
